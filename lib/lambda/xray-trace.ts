// The X-Ray trace header of a Lambda invocation as W3C trace context. Lambda puts the header in
// `_X_AMZN_TRACE_ID` for each invocation (`Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=1`,
// fields in any order, maybe more of them); a message from outside that carries no trace context
// runs under it, so its turns join the invocation's trace (the caller's, when an API traced by
// X-Ray invoked the function).
import type { TraceContext } from '../core/envelope.js'

const ROOT = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/
const SPAN_ID = /^[0-9a-f]{16}$/

/**
 * The trace context of an X-Ray trace header: trace id the Root's two hex parts joined, parent
 * span id its Parent, sampled when `Sampled=1`. Undefined for no header, or one without a valid
 * Root and Parent.
 */
export function xrayTrace(header: string | undefined): TraceContext | undefined {
  if (header === undefined || header.length > 1024) return undefined
  let root: RegExpExecArray | null = null
  let parent: string | undefined
  let sampled = false
  for (const field of header.split(';')) {
    const eq = field.indexOf('=')
    const name = field.slice(0, eq).trim()
    const value = field.slice(eq + 1).trim().toLowerCase()
    if (eq < 0) continue
    if (name === 'Root') root = ROOT.exec(value)
    else if (name === 'Parent') parent = SPAN_ID.test(value) ? value : undefined
    else if (name === 'Sampled') sampled = value === '1'
  }
  if (root === null || parent === undefined) return undefined
  const traceId = root[1]! + root[2]!
  if (/^0+$/.test(traceId) || /^0+$/.test(parent)) return undefined
  return { parent: `00-${traceId}-${parent}-${sampled ? '01' : '00'}` }
}
