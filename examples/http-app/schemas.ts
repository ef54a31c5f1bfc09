// The API's schemas, in one place: the actors check their mailboxes with them, the HTTP routes
// validate request bodies with them, and the OpenAPI document is generated from them.
import { z } from 'zod'

export const CURRENCIES = ['EUR', 'USD', 'GBP'] as const

/** The body of POST /accounts/{id}/deposits. */
export const DepositBody = z
  .object({
    amount: z.number().int().positive().max(1_000_000).describe('in cents'),
    currency: z.enum(CURRENCIES),
    memo: z.string().max(200).optional(),
  })
  .strict()
export type DepositBody = z.infer<typeof DepositBody>

/** An account id in the path. */
export const AccountId = z.string().regex(/^[a-z0-9-]{3,40}$/, 'an account id is 3 to 40 of a-z, 0-9 and "-"')

/** What GET /accounts/{id} answers. */
export const AccountView = z.object({
  id: z.string(),
  balances: z.record(z.string(), z.number().int()),
  deposits: z.number().int(),
})
export type AccountView = z.infer<typeof AccountView>

/** The Account actor's mailbox: a deposit, or a read. */
export const AccountMessage = z.discriminatedUnion('op', [
  DepositBody.extend({ op: z.literal('deposit'), id: AccountId }),
  z.object({ op: z.literal('get'), id: AccountId }),
])
export type AccountMessage = z.infer<typeof AccountMessage>

/** 202: the message id of the accepted deposit (and the request id it was filed under). */
export const Accepted = z.object({ messageId: z.string(), requestId: z.string() })
/** 4xx/5xx. */
export const Problem = z.object({ error: z.string(), requestId: z.string() })

/** The body of POST /admin/actors/{type}/pause and …/resume: one key, or the whole type. */
export const PauseBody = z.object({ key: z.string().min(1).max(1024).optional() }).strict()
/** What the management routes answer: every pause now. */
export const Pauses = z.object({ pauses: z.array(z.object({ type: z.string(), key: z.string().optional() })) })
