import { Actor, type Context } from 'troupe'

export interface ItemChange {
  table: string
  id: string
  event: 'INSERT' | 'MODIFY' | 'REMOVE'
  /** The item after the change; absent on REMOVE. */
  item?: Record<string, unknown>
  sequenceNumber: string
}

export interface ItemMirrorState {
  item: Record<string, unknown> | null
  changes: number
  /** The last stream sequence number applied: a redelivered record at or below it is passed over. */
  sequence: string
  removed: boolean
}

/** One DynamoDB item, mirrored from its table's stream (`fromDynamoDBStream`), keyed by table and id. */
export class ItemMirror extends Actor<ItemChange, void, ItemMirrorState> {
  static readonly type = 'itemMirror'

  key(msg: ItemChange) {
    return `${msg.table}/${msg.id}`
  }

  initialState(): ItemMirrorState {
    return { item: null, changes: 0, sequence: '', removed: false }
  }

  receive(msg: ItemChange, ctx: Context<ItemMirrorState>) {
    if (ctx.state.sequence !== '' && BigInt(msg.sequenceNumber) <= BigInt(ctx.state.sequence)) return
    ctx.state.sequence = msg.sequenceNumber
    ctx.state.changes++
    ctx.state.removed = msg.event === 'REMOVE'
    ctx.state.item = msg.item ?? null
  }
}
