// The orders pipeline, declared in code. Each arrow is checked by the compiler: a stage's
// mailbox must take the previous stage's reply (`null` from ReceiveOrder stops an empty order).
//
//   ReceiveOrder ─┬─ fork → PriceOrder   ─┐
//                 └─ fork → ReserveStock ─┴─ join → Decide → CustomerLedger
import { pipeline } from 'troupe'
import { CustomerLedger } from './actors/CustomerLedger.js'
import { Decide } from './actors/Decide.js'
import { PriceOrder } from './actors/PriceOrder.js'
import { ReceiveOrder } from './actors/ReceiveOrder.js'
import { ReserveStock } from './actors/ReserveStock.js'

export const orders = pipeline('orders')
  .from(ReceiveOrder)
  .fork(PriceOrder, ReserveStock)
  .join(Decide, { timeoutMs: 60_000 })
  .pipe(CustomerLedger)
