// A request's messages as a tree: each under the message whose turn sent it, earliest first.
import type { MessageNode, TraceNode } from './inspector.js'

/** Roots are messages whose parent is not among them (the request's first message, or one whose parent was forgotten). */
export function traceTree(messages: readonly MessageNode[]): TraceNode[] {
  const nodes = new Map<string, TraceNode>()
  for (const m of messages) nodes.set(m.id, { ...m, children: [] })
  const roots: TraceNode[] = []
  for (const node of nodes.values()) {
    const parent = node.parentId === undefined ? undefined : nodes.get(node.parentId)
    if (parent && parent !== node) parent.children.push(node)
    else roots.push(node)
  }
  const order = (list: TraceNode[]) => {
    list.sort((a, b) => (a.sentAt ?? 0) - (b.sentAt ?? 0) || (a.id < b.id ? -1 : 1))
    for (const n of list) order(n.children)
  }
  order(roots)
  return roots
}

/** The chain of causes of a message, root first, from a lookup by id; stops at a loop or an unknown id. */
export async function causesOf(message: MessageNode, lookup: (id: string) => Promise<MessageNode | undefined>): Promise<MessageNode[]> {
  const chain: MessageNode[] = []
  const seen = new Set([message.id])
  let parentId = message.parentId
  while (parentId !== undefined && !seen.has(parentId) && chain.length < 1000) {
    seen.add(parentId)
    const parent = await lookup(parentId)
    if (!parent) break
    chain.unshift(parent)
    parentId = parent.parentId
  }
  return chain
}
