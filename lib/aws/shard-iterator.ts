// Where a shard's reader reads next (shard-reader.ts): a position, and the Kinesis iterator fetched
// for it. The position is after the checkpoint, else the starting position; after each finished
// record, after that record; after a failure, AT the first unfinished record, so exactly the
// unfinished tail comes again. An iterator that expired (5 minutes unused, e.g. behind a slow
// handler) or was refused is fetched again from the position, so nothing is skipped or repeated.
import { GetShardIteratorCommand, type GetShardIteratorCommandInput, type KinesisClient } from '@aws-sdk/client-kinesis'

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST'

type Position = { type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string } | { type: StartingPosition }

export class ShardIterator {
  /**
   * The iterator the next GetRecords reads with. Undefined when one must be fetched, and after a
   * fetch or a read when the shard has none: it was read to its end.
   */
  current: string | undefined
  private position: Position

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly stream: string,
    private readonly shardId: string,
    checkpoint: string | undefined,
    start: StartingPosition,
  ) {
    this.position = checkpoint === undefined ? { type: start } : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: checkpoint }
  }

  /** Fetches an iterator at the position into `current`. */
  async fetch(signal: AbortSignal): Promise<void> {
    const p = this.position
    const input: GetShardIteratorCommandInput = { StreamName: this.stream, ShardId: this.shardId, ShardIteratorType: p.type }
    if ('sequenceNumber' in p) input.StartingSequenceNumber = p.sequenceNumber
    const out = await this.kinesis.send(new GetShardIteratorCommand(input), { abortSignal: signal })
    this.current = out.ShardIterator ?? undefined
  }

  /** Everything up to `sequenceNumber` is finished: an iterator fetched from now on starts after it. */
  finished(sequenceNumber: string): void {
    this.position = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber }
  }

  /** Reads again from `sequenceNumber`, the first record not finished. */
  rewind(sequenceNumber: string): void {
    this.position = { type: 'AT_SEQUENCE_NUMBER', sequenceNumber }
    this.current = undefined
  }

  /** Drops an iterator Kinesis no longer takes: the next read fetches one at the position. */
  drop(): void {
    this.current = undefined
  }
}
