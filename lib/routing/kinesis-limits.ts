// Kinesis Data Streams limits the router, the record codec and the transport respect, in one
// place (AWS-SEMANTICS.md §3.1). The per-stream record size is not here: it is read from the
// stream itself (DescribeStreamSummary `MaxRecordSizeInKiB`), since a stream can be raised to 10 MiB.

const MiB = 1024 * 1024

/** A partition key is 1 to 256 Unicode characters. */
export const PARTITION_KEY_MAX_LENGTH = 256

/** Records in one PutRecords call. */
export const PUT_RECORDS_MAX_RECORDS = 500

/**
 * Bytes in one PutRecords call, data plus partition keys. AWS now takes 10 MiB; troupe keeps the
 * older 5 MiB so that a call stays under kinesalite's 7 MiB request cap after base64.
 */
export const PUT_RECORDS_MAX_BYTES = 5 * MiB

/** A stream's record size (data plus partition key) when it does not say (`MaxRecordSizeInKiB` absent). */
export const DEFAULT_MAX_RECORD_BYTES = 1 * MiB

/** The largest record any stream can take (`MaxRecordSizeInKiB` 10240). */
export const LARGEST_MAX_RECORD_BYTES = 10 * MiB

/** Kinesis stream names: 1 to 128 of `[a-zA-Z0-9_.-]`. */
export const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/
