// A pipeline as data, and drawn: Mermaid flowchart or Graphviz DOT text.
import type { ActorClass } from '../core/actor.js'

export type StageKind = 'keyed' | 'singleton' | 'stateless'

export interface GraphNode {
  /** The actor type name. */
  id: string
  /** The class name. */
  label: string
  kind: StageKind
}

export interface GraphEdge {
  from: string
  to: string
  /** pipe: the reply is the next message; each: every item of it is; fork: one copy per branch; join: the branch's reply is gathered. */
  kind: 'pipe' | 'each' | 'fork' | 'join'
}

export interface PipelineGraph {
  name: string
  nodes: GraphNode[]
  edges: GraphEdge[]
}

export function nodeOf(cls: ActorClass): GraphNode {
  const proto = cls.prototype as { key?: unknown; initialState?: unknown }
  const kind: StageKind = typeof proto.key === 'function' ? 'keyed' : typeof proto.initialState === 'function' ? 'singleton' : 'stateless'
  return { id: cls.type, label: cls.name || cls.type, kind }
}

/** The type name is worth showing beside the class name only when it says something else. */
function sameName(n: GraphNode): boolean {
  return n.label.toLowerCase() === n.id.toLowerCase()
}

/** Mermaid ids: letters, digits and underscores. */
function mermaidId(id: string): string {
  return id.replace(/[^A-Za-z0-9_]/g, '_')
}

function mermaidNode(n: GraphNode): string {
  const text = sameName(n) ? n.label : `${n.label}<br/><small>${n.id}</small>`
  const label = `"${text}${n.kind === 'stateless' ? '' : ` · ${n.kind}`}"`
  // Stateful stages are drawn as stores (a cylinder); stateless ones as boxes.
  return n.kind === 'stateless' ? `${mermaidId(n.id)}[${label}]` : `${mermaidId(n.id)}[(${label})]`
}

/** A Mermaid flowchart of one or more pipelines, each in its own subgraph when there are several. */
export function toMermaid(graphs: readonly PipelineGraph[]): string {
  const lines = ['flowchart LR']
  const several = graphs.length > 1
  for (const g of graphs) {
    const indent = several ? '    ' : '  '
    if (several) lines.push(`  subgraph ${mermaidId(`pipeline_${g.name}`)}["${g.name}"]`)
    for (const n of g.nodes) lines.push(`${indent}${mermaidNode(n)}`)
    for (const e of g.edges) {
      const arrow = e.kind === 'join' ? '-.->' : '-->'
      const label = e.kind === 'pipe' ? '' : `|${e.kind}|`
      lines.push(`${indent}${mermaidId(e.from)} ${arrow}${label} ${mermaidId(e.to)}`)
    }
    if (several) lines.push('  end')
  }
  return `${lines.join('\n')}\n`
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** A Graphviz digraph of one or more pipelines, each in its own cluster when there are several. */
export function toDot(graphs: readonly PipelineGraph[]): string {
  const lines = ['digraph troupe {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];']
  const several = graphs.length > 1
  graphs.forEach((g, i) => {
    const indent = several ? '    ' : '  '
    if (several) lines.push(`  subgraph cluster_${i} {`, `    label=${dotString(g.name)};`)
    for (const n of g.nodes) {
      const label = `${n.label}${sameName(n) ? '' : `\\n${n.id}`}${n.kind === 'stateless' ? '' : `\\n(${n.kind})`}`
      lines.push(`${indent}${dotString(n.id)} [label="${label.replace(/"/g, '\\"')}"${n.kind === 'stateless' ? '' : ', shape=cylinder'}];`)
    }
    for (const e of g.edges) {
      const attrs = e.kind === 'pipe' ? '' : ` [label=${dotString(e.kind)}${e.kind === 'join' ? ', style=dashed' : ''}]`
      lines.push(`${indent}${dotString(e.from)} -> ${dotString(e.to)}${attrs};`)
    }
    if (several) lines.push('  }')
  })
  lines.push('}')
  return `${lines.join('\n')}\n`
}
