// The AWS suite's settings, in a module without imports so the driver can print them without
// loading the AWS SDK.

/** Shards of every benchmark stream. */
export const SHARDS = 4
/** Wait between reads of a shard that had nothing new (troupe-aws and hand-lambda): small, so polling does not set the pace. */
export const POLL_MS = 20
/** Record data bytes of raw-kinesis and hand-lambda: about the size of troupe's envelope for these messages (superjson, ~190 B). */
export const RECORD_BYTES = 200
/** The consumer's batch size of the flow-control line (troupe-aws-b100*): the mapping's batch size `troupe deploy` sets. */
export const FLOW_BATCH_SIZE = 100
