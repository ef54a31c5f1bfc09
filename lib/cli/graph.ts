// `troupe graph`: draws the app's pipelines as Mermaid or Graphviz DOT text, or prints them as
// JSON. An app without pipelines is drawn as its actors, unconnected.
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { nodeOf, toDot, toMermaid, type PipelineGraph } from '../pipeline/graph.js'
import { UsageError } from './cli-error.js'
import { newCommand, parseCommand } from './command.js'
import { DEFAULT_APP_HELP, defaultApp, loadApp } from './load-app.js'
import type { Io } from './io.js'

const FORMATS = ['mermaid', 'dot', 'json'] as const

function graphCommand(io: Io): Command {
  return newCommand('troupe graph', io)
    .description(
      "Draws the app's pipelines (defineApp({ pipelines: [...] })): each stage (an actor type) and where its output goes: " +
        'pipe, each (every item of an array), fork and join. Stateful stages are drawn as stores. ' +
        'An app without pipelines is drawn as its actors alone.',
    )
    .option('--app <file>', `the app: a module whose default export is defineApp({ actors, pipelines }) ${DEFAULT_APP_HELP}`)
    .option('--format <format>', 'mermaid (a flowchart, for Markdown), dot (Graphviz) or json (default mermaid)')
    .option('--pipeline <name>', 'draw only this pipeline')
    .option('--json', 'the same as --format json')
    .addHelpText(
      'after',
      `
Exit code: 0 when drawn, 2 on bad options, an unknown pipeline, or an app that is missing
or is not an app, 1 when the app fails to load.

Example
  troupe graph --app examples/pipeline-dsl/troupe.app.ts --format dot | dot -Tsvg > orders.svg
`,
    )
}

/** Runs `troupe graph <args>`; resolves to the exit code, or throws a CliError. */
export async function graph(args: readonly string[], io: Io): Promise<number> {
  const program = graphCommand(io)
  const helped = await parseCommand(program, args)
  if (helped !== undefined) return helped
  const values = program.opts<{ app?: string; format?: string; pipeline?: string; json?: boolean }>()
  const format = values.json ? 'json' : (values.format ?? 'mermaid')
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`)
  if (values.json && values.format !== undefined && values.format !== 'json') throw new UsageError(`--json and --format ${values.format} disagree; give one`)
  const given = values.app ?? defaultApp()
  const app = await loadApp(resolve(given), { given })

  let graphs: PipelineGraph[] = (app.pipelines ?? []).map((p) => p.graph())
  if (values.pipeline !== undefined) {
    graphs = graphs.filter((g) => g.name === values.pipeline)
    if (graphs.length === 0) {
      const names = (app.pipelines ?? []).map((p) => p.name)
      throw new UsageError(`no pipeline ${JSON.stringify(values.pipeline)} in ${given}; ${names.length > 0 ? `it has ${names.join(', ')}` : 'it declares no pipelines'}`)
    }
  }
  if (graphs.length === 0) graphs = [{ name: 'actors', nodes: app.actors.map(nodeOf), edges: [] }]

  const text = format === 'mermaid' ? toMermaid(graphs) : format === 'dot' ? toDot(graphs) : `${JSON.stringify(graphs.length === 1 ? graphs[0] : graphs, null, 2)}\n`
  io.stdout.write(text)
  return 0
}
