// `troupe inspect …`: actors, state, messages, traces, dead letters, joins, timers, cost, and
// pausing — over a process that serves inspection (`--url`, the embedded mode or `troupe dev`),
// or over the AWS mode's DynamoDB table itself (`--table`, local or real).
import { readFileSync } from 'node:fs'
import { Option, type Command } from 'commander'
import { TroupeError } from '../core/errors.js'
import { MissingPeerError, missingPackage } from '../core/optional-peer.js'
import { decode } from '../core/serialization.js'
import type { ReceiptEntry } from '../core/receipt.js'
import { choosePrices, parsePriceOverride, priceRegions } from '../cost/price-book.js'
import { DEFAULT_PRICE_REGION } from '../cost/prices.js'
import { total } from '../cost/bill.js'
import { messageCost, type MessageCost, type MessageCostOptions } from '../cost/message-cost.js'
import { DEFAULT_LAMBDA } from '../cost/usage.js'
import type { CostView, Inspector, MessageNode, TraceNode } from '../inspect/inspector.js'
import { CliError, messageOf, UsageError, withoutCode } from './cli-error.js'
import { newCommand, parseCommand } from './command.js'
import { openSource, SOURCE_HELP, sourceOptions, unreachableTable, type SourceFlags } from './inspect-source.js'
import type { Io } from './io.js'
import { textTable as table } from './text-table.js'

const COST_HELP = `
Dollars per million messages are what the counted requests cost at list prices: Kinesis PUT
payload units and DynamoDB request units as the hosts counted them, S3 requests, and the host
function's invocations (one per full batch and per ask by Invoke) at an assumed duration, which
--lambda-ms replaces with a measured one. Counts of a process that reads its streams and runs the
turns itself (troupe dev --host process, a container) are priced as that: no Lambda compute, no
tick; troupe dev's default host gives the Lambda deploy's. A month's standing costs (shard hours,
the tick) are shown apart: they do not depend on messages. docs/cost.md has the model and the price file.
`

/** `dead replay --all` says on stderr how far it got every this many letters. */
const PROGRESS_EVERY = 100

/** Runs `troupe inspect <argv>`; resolves to the exit code. */
export async function inspect(argv: readonly string[], io: Io): Promise<number> {
  const out = (text: string) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  const program = newCommand('troupe inspect', io).description('look into a running troupe system or its DynamoDB table').addHelpText('after', SOURCE_HELP)

  const source = (cmd: Command) => sourceOptions(cmd).option('--json', 'print JSON instead of a table')
  /** 1 when a command answered but did not do all it was asked (`dead replay --all` with letters not replayed). */
  let exitCode = 0

  /** One subcommand: opens the source, runs, prints JSON or text, closes. */
  const action =
    <A extends unknown[]>(run: (inspector: Inspector, flags: SourceFlags & { json?: boolean } & Record<string, unknown>, ...args: A) => Promise<{ json: unknown; text: () => string; failed?: boolean }>) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as Command
      // `dead replay` shares its flags with `dead`, which commander gives them to.
      const flags = cmd.optsWithGlobals() as SourceFlags & { json?: boolean } & Record<string, unknown>
      try {
        const inspector = await openSource(flags)
        try {
          const result = await run(inspector, flags, ...(args.slice(0, -2) as A))
          out(flags.json ? JSON.stringify(result.json, null, 2) : result.text())
          if (result.failed) exitCode = 1
        } finally {
          await inspector.close?.()
        }
      } catch (thrown) {
        const error = unreachableTable(flags, thrown) ?? thrown
        // A program reading --json reads stdout: a command that ran and could not answer says so
        // there too (the line on stderr and the exit code stay). One that could not start as asked
        // (exit 2: a bad flag, an npm package missing) is the caller's to fix, as a bad flag is.
        if (flags.json && !cannotStart(error)) out(JSON.stringify({ error: jsonError(error) }, null, 2))
        throw error
      }
    }

  source(program.command('actors').description('each actor type: instances, messages processed and dead, queue, running, parked (for a throttle, a slot or a long retry; and the oldest), iterator age, pauses, last activity')).action(
    action(async (i) => {
      const rows = await i.actors()
      const now = Date.now()
      return {
        json: rows,
        text: () =>
          table(
            ['actor', 'kind', 'instances', 'processed', 'retried', 'dead', 'queued', 'running', 'throttled', 'parked', 'oldest parked', 'iterator age', 'paused', 'last activity', ...(rows.some((r) => r.unreadable) ? ['unreadable items'] : [])],
            rows.map((r) => [
              r.type,
              r.kind ?? '',
              r.instances,
              r.processed ?? '',
              r.retried ?? '',
              r.dead,
              r.queued ?? '',
              r.running ?? '',
              r.throttled ?? '',
              r.parked ?? '',
              r.oldestParkedAt === undefined ? '' : `${Math.max(0, Math.round((now - r.oldestParkedAt) / 1000))} s ago`,
              r.iteratorAgeMs === undefined ? '' : `${Math.round(r.iteratorAgeMs / 1000)} s`,
              r.paused ? 'all' : r.pausedKeys.join(', '),
              time(r.lastActivityAt),
              ...(rows.some((r) => r.unreadable) ? [r.unreadable ?? ''] : []),
            ]),
          ),
      }
    }),
  )

  source(
    program
      .command('state <type> [key]')
      .description("one instance's state, version, last message and update time; without a key, a page of the type's instances")
      .option('--limit <n>', 'instances per page', '50')
      .option('--after <cursor>', "the page after this one (the 'next' of the page before)")
      .option('--search <text>', 'only keys containing this'),
  ).action(
    action(async (i, flags, type: string, key: string | undefined) => {
      if (key !== undefined) {
        const row = await i.instance(type, key)
        if (!row) throw notFound(`no instance ${type}#${key}`)
        const state = row.unreadable !== undefined ? `UNREADABLE: ${row.unreadable}${row.state === undefined ? '' : `\n${pretty(row.state)}`}` : row.state === undefined ? noStateYet(row.waiting) : pretty(row.state)
        return { json: row, text: () => `${type}#${key}  version ${row.version ?? '-'}${row.stateVersion !== undefined ? `  state version ${row.stateVersion}` : ''}  last message ${row.lastMessageId ?? '-'}  updated ${time(row.updatedAt)}${row.paused ? '  PAUSED' : ''}\n${state}` }
      }
      const limit = Number(flags.limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit is a whole number from 1 to 1000, got ${String(flags.limit)}`)
      const page = await i.instances(type, { limit, ...(flags.after ? { after: String(flags.after) } : {}), ...(flags.search ? { search: String(flags.search) } : {}) })
      return {
        json: page,
        text: () =>
          table(
            ['key', 'state', 'version', 'updated', 'waiting'],
            page.items.map((r) => [r.key, r.unreadable !== undefined ? `UNREADABLE: ${r.unreadable}` : oneLine(r.state), r.version ?? '', time(r.updatedAt), `${r.waiting ?? 0}${r.paused ? ' (paused)' : ''}`]),
          ) + (page.next ? `\nmore: --after ${page.next}` : ''),
      }
    }),
  )

  source(program.command('message <id>').description('a message: its receipt (statuses, attempts, errors), where it came from and what it caused')).action(
    action(async (i, _f, id: string) => {
      const view = await i.message(id)
      if (!view) throw notFound(`nothing is known of message ${id} (it kept no receipt, or it is past its time)`)
      return {
        json: view,
        text: () =>
          [
            `${describe(view.message)}`,
            ...view.message.history.map((e) => `  ${historyLine(e)}`),
            view.causes.length ? `caused by\n${view.causes.map((c, n) => `${'  '.repeat(n + 1)}${describe(c)}`).join('\n')}` : 'caused by: a sender outside troupe',
            view.caused.length ? `caused\n${view.caused.map((c) => `  ${describe(c)}`).join('\n')}` : 'caused: nothing',
          ].join('\n'),
      }
    }),
  )

  source(program.command('trace <correlationId>').description('every message of one request, as a tree with status and timings')).action(
    action(async (i, _f, id: string) => {
      const roots = await i.trace(id)
      if (roots.length === 0) throw notFound(`no messages of request ${id} are known`)
      return { json: roots, text: () => traceText(roots) }
    }),
  )

  const dead = source(program.command('dead').description('dead letters with error and attempts; `dead replay` puts them back').option('--type <type>', 'one actor type')).action(
    action(async (i, flags) => {
      const rows = await i.dead(flags.type as string | undefined)
      return {
        json: rows,
        text: () => table(['id', 'actor', 'key', 'attempts', 'error', 'dead at'], rows.map((r) => [r.id, r.type, r.key, r.attempts.length, r.error.message.slice(0, 80), time(r.deadAt)])),
      }
    }),
  )
  source(
    dead
      .command('replay [id]')
      .description('puts a dead letter back (same id, attempts from 1); --all --type T replays every one of a type')
      .option('--all', 'every dead letter (of --type)')
      .option('--type <type>', 'with --all: only this actor type'),
  ).action(
    action(async (i, flags, id: string | undefined) => {
      if (id === undefined && !flags.all) throw new UsageError('say which: dead replay <id>, or dead replay --all [--type T]')
      if (id !== undefined && flags.all) throw new UsageError('give an id or --all, not both')
      if (id !== undefined) {
        const replayed = [await i.replay(id)]
        return { json: { replayed }, text: () => `replayed 1: ${replayed[0]}` }
      }
      // Every letter is tried: one that fails (held by another replay, its instance busy) is said
      // as it fails and in the answer, and the others go on; the exit code is then 1.
      const ids = (await i.dead(flags.type as string | undefined)).map((r) => r.id)
      const replayed: string[] = []
      const failed: { id: string; error: { code?: string; message: string } }[] = []
      let untried: string[] = []
      /** The refusal of the letter tried last, if it was refused: the same one twice in a row is the source's, not a letter's. */
      let lastRefusal: string | undefined
      for (const [n, each] of ids.entries()) {
        try {
          replayed.push(await i.replay(each))
          lastRefusal = undefined
        } catch (error) {
          failed.push({ id: each, error: jsonError(error) })
          io.stderr.write(`troupe inspect: dead letter ${each} not replayed: ${withoutCode(messageOf(error))}\n`)
          // The source gone, unable to replay at all (a table read without its stream), or refusing
          // this client twice alike (its token): no other letter can be replayed either.
          const code = error instanceof TroupeError ? error.code : undefined
          const refusal = code === 'TROUPE_INSPECT_REFUSED' ? failed.at(-1)!.error.message : undefined
          const again = refusal !== undefined && refusal === lastRefusal
          lastRefusal = refusal
          if (code === 'TROUPE_INSPECT_UNREACHABLE' || code === 'TROUPE_CONFIG' || again) {
            untried = ids.slice(n + 1)
            break
          }
        }
        if ((n + 1) % PROGRESS_EVERY === 0 && n + 1 < ids.length) io.stderr.write(`troupe inspect: ${n + 1} of ${ids.length} dead letters tried\n`)
      }
      const text = () => {
        const done = replayed.length ? `replayed ${replayed.length}: ${replayed.join(', ')}` : failed.length ? 'replayed none' : 'nothing to replay'
        const notDone = failed.length ? `; ${failed.length} not replayed: ${failed.map((f) => f.id).join(', ')}` : ''
        return `${done}${notDone}${untried.length ? `; ${untried.length} not tried` : ''}`
      }
      return { json: { replayed, failed, ...(untried.length ? { untried } : {}) }, text, failed: failed.length !== 0 }
    }),
  )

  source(program.command('joins').description('forks still waiting, with their deadline and missing children')).action(
    action(async (i) => {
      const rows = await i.joins()
      return {
        json: rows,
        text: () => table(['fork', 'join', 'received', 'deadline', 'missing'], rows.map((r) => (r.unreadable !== undefined ? [r.forkId, `UNREADABLE: ${r.unreadable}`, '', '', ''] : [r.forkId, r.join, `${r.received}/${r.total}`, time(r.deadline), r.missing.map((m) => `${m.index}:${m.actor}`).join(', ')]))),
      }
    }),
  )

  source(program.command('timers').description('scheduled and recurring timers, earliest first')).action(
    action(async (i) => {
      const rows = await i.timers()
      // A timer keeps its body as superjson text: --json shows it as the value it is.
      return { json: rows.map((r) => ({ ...r, body: readable(r.body) })), text: () => table(['id', 'target', 'next due', 'every', 'fired'], rows.map((r) => [r.id, r.target, time(r.dueAt), r.every ?? '', r.fired])) }
    }),
  )

  source(
    program
      .command('cost')
      .description(
        'AWS requests per API and per message, and what they cost in dollars per million messages beside a month of standing costs: since the process started (--url), or from the metrics the hosts wrote (troupe dev, --table on AWS)',
      )
      .option('--prices <file>', 'a price file (JSON) laid over the built-in list prices (docs/cost.md); the region is --region, else us-east-1')
      .option('--price <name=usd>', 'one price by name, in dollars per its unit, e.g. dynamodb.writeRequestUnit=0.7 (per million); repeat for more', (v: string, all: string[] | undefined) => [...(all ?? []), v])
      .option('--shards <n>', 'provisioned shards over every stream, for the monthly cost', '1')
      .option('--lambda-ms <ms>', `billed milliseconds of one host invocation (not counted by troupe; default ${DEFAULT_LAMBDA.msPerInvocation}, assumed)`)
      .option('--memory-mb <mb>', `the host function's memory (default ${DEFAULT_LAMBDA.memoryMb}, troupe deploy's)`)
      .addOption(new Option('--arch <architecture>', `the host function's architecture (default ${DEFAULT_LAMBDA.architecture}, troupe deploy's)`).choices(['arm64', 'x86_64']))
      .option('--no-lambda', 'price no Lambda compute: the turns run in a process of your own (a container)')
      .addHelpText('after', COST_HELP),
  ).action(
    action(async (i, flags) => {
      const cost = await i.cost()
      if (!cost) {
        throw new TroupeError(
          'TROUPE_INSPECT_NOT_AVAILABLE',
          flags.table
            ? 'cost is not known from the table alone: the hosts count the requests in their metrics; read them with --metrics cloudwatch, or use --url to a troupe dev or AWS-mode process'
            : 'cost is not known for the embedded mode: it makes no AWS requests, so there is nothing to price (inspect troupe dev or an AWS-mode process for what the AWS mode would pay)',
        )
      }
      const options = costOptions(flags)
      if ('unpriced' in options) return { json: { ...cost, unpriced: options.unpriced }, text: () => costText(cost, options.unpriced) }
      const dollars = messageCost(cost, options)
      const priced = { ...cost, dollars }
      return { json: priced, text: () => costText(priced, dollars) }
    }),
  )

  for (const verb of ['pause', 'resume'] as const) {
    source(
      program
        .command(`${verb} <type> [key]`)
        .description(verb === 'pause' ? 'stop delivering to an actor type or one key: its messages wait, receipts say paused' : 'deliver again to a paused type or key; what waited goes first, in order'),
    ).action(
      action(async (i, _f, type: string, key: string | undefined) => {
        await i[verb](type, key)
        const what = key === undefined ? type : `${type}#${key}`
        return { json: { [verb === 'pause' ? 'paused' : 'resumed']: { type, ...(key !== undefined ? { key } : {}) } }, text: () => `${verb === 'pause' ? 'paused' : 'resumed'} ${what}` }
      }),
    )
  }

  try {
    return (await parseCommand(program, argv)) ?? exitCode
  } catch (error) {
    if (error instanceof TroupeError) throw new CliError(withoutCode(error.message), 1, { cause: error })
    throw error
  }
}

/** An instance, message or request the source knows nothing of: exit 1, and under `--json` its code. */
function notFound(message: string): CliError {
  return new CliError(message, 1, { cause: new TroupeError('TROUPE_INSPECT_NOT_FOUND', message) })
}

/** A failure as `--json` prints it: its message for people, and its code (`TROUPE_…`) when it has one, for programs. */
function jsonError(error: unknown): { code?: string; message: string } {
  if (error instanceof TroupeError) return { code: error.code, message: withoutCode(error.message) }
  // A failure said in the CLI's words around troupe's own error: its code still speaks for it.
  if (error instanceof CliError && error.cause instanceof TroupeError) return { code: error.cause.code, message: withoutCode(error.message) }
  return { message: error instanceof Error ? withoutCode(error.message) : String(error) }
}

/** Whether the command exits 2 for `error` (main.ts): it could not start as asked. */
function cannotStart(error: unknown): boolean {
  return (error instanceof CliError && error.exitCode === 2) || error instanceof MissingPeerError || missingPackage(error) !== undefined
}

function time(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? '' : new Date(ms).toISOString()
}

/**
 * An item on AWS with no state: no turn of its instance has succeeded yet. It may hold messages
 * that wait (held while paused, or parked for a token, a slot or a retry), or its only messages
 * died, or it holds a pause alone.
 */
function noStateYet(waiting: number | undefined): string {
  return `(no state yet: no turn of it has succeeded${waiting ? `; ${waiting} ${waiting === 1 ? 'message waits' : 'messages wait'} in its item` : ''})`
}

function pretty(value: unknown): string {
  return JSON.stringify(value, replacer, 2) ?? 'undefined'
}

function oneLine(value: unknown): string {
  const text = JSON.stringify(value, replacer) ?? 'undefined'
  return text.length > 80 ? `${text.slice(0, 79)}…` : text
}

/** A body kept as superjson text, as its value; the text itself when it is not superjson's. */
function readable(body: string): unknown {
  try {
    const doc: unknown = JSON.parse(body)
    return doc !== null && typeof doc === 'object' && 'json' in doc ? decode(body) : body
  } catch {
    return body
  }
}

/** Maps and Sets (superjson keeps them) as plain data for printing. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value)
  if (value instanceof Set) return [...value]
  return value
}

function describe(m: MessageNode): string {
  const key = m.key === '' ? '' : `#${m.key}`
  const took = m.durationMs === undefined ? '' : ` ${m.durationMs} ms`
  const tries = m.attempts > 1 ? ` (${m.attempts} attempts)` : ''
  const error = m.error ? ` — ${m.error.message.slice(0, 100)}` : ''
  return `${m.type}${key} ${m.id} ${m.status}${tries}${took}${error}`
}

function historyLine(e: ReceiptEntry): string {
  return `${time(e.at)} ${e.status} attempt ${e.attempt}${e.reason ? `: ${e.reason.slice(0, 120)}` : ''}`
}

function traceText(roots: readonly TraceNode[]): string {
  const lines: string[] = []
  const start = Math.min(...roots.map((r) => r.sentAt ?? Infinity))
  const walk = (node: TraceNode, prefix: string, last: boolean, top: boolean) => {
    const offset = node.sentAt === undefined || !Number.isFinite(start) ? '' : ` +${node.sentAt - start} ms`
    lines.push(`${top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`}${describe(node)}${offset}`)
    const next = top ? '' : `${prefix}${last ? '   ' : '│  '}`
    node.children.forEach((c, n) => walk(c, next, n === node.children.length - 1, false))
  }
  for (const r of roots) walk(r, '', true, true)
  return lines.join('\n')
}

/**
 * The pricing flags of `inspect cost`, checked; `unpriced` says why there is no price when the
 * region (perhaps AWS_REGION's) has none and no price file gives it: the requests still print.
 */
function costOptions(flags: Record<string, unknown>): MessageCostOptions | { unpriced: string } {
  const positive = (name: string, value: unknown, whole: boolean): number | undefined => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (!Number.isFinite(n) || n < 0 || (whole && !Number.isInteger(n))) throw new UsageError(`${name} is a ${whole ? 'whole ' : ''}number, 0 or more, got ${String(value)}`)
    return n
  }
  let file: unknown
  if (typeof flags.prices === 'string') {
    try {
      file = JSON.parse(readFileSync(flags.prices, 'utf8'))
    } catch (error) {
      throw new UsageError(`--prices ${flags.prices}: ${(error as Error).message}`)
    }
  }
  const overrides = Object.fromEntries(((flags.price as string[] | undefined) ?? []).map(parsePriceOverride))
  // An empty AWS_REGION is no region.
  const region = typeof flags.region === 'string' && flags.region !== '' ? flags.region : DEFAULT_PRICE_REGION
  const known = priceRegions(file, String(flags.prices))
  if (!known.includes(region)) return { unpriced: `no prices for ${region} (known: ${known.join(', ')}): give them in a price file with --prices (docs/cost.md)` }
  const prices = choosePrices({ ...(file !== undefined ? { file, fileName: String(flags.prices) } : {}), region, overrides })
  const ms = positive('--lambda-ms', flags.lambdaMs, false)
  const mb = positive('--memory-mb', flags.memoryMb, true)
  return {
    prices,
    shards: positive('--shards', flags.shards, true) ?? 1,
    noLambda: flags.lambda === false,
    lambda: { ...(ms !== undefined ? { msPerInvocation: ms } : {}), ...(mb !== undefined ? { memoryMb: mb } : {}), ...(flags.arch !== undefined ? { architecture: flags.arch as 'arm64' | 'x86_64' } : {}) },
  }
}

function costText(cost: CostView, dollars: MessageCost | string): string {
  // A cost read from the table or from metrics has no start of its own to name.
  const since = time(cost.since)
  const head = `${since === '' ? '' : `since ${since}: `}${cost.requests} requests for ${cost.messages} messages (${cost.requestsPerMessage ?? '-'} per message)`
  if (typeof dollars === 'string') {
    return [head, table(['API', 'requests', 'errors', 'bytes out', 'bytes in', 'units'], Object.entries(cost.byApi).map(([api, c]) => [api, c.requests, c.errors, c.requestBytes, c.responseBytes, c.units ?? 0])), '', dollars].join('\n')
  }
  const usd = (x: number) => `$${x.toFixed(x >= 10 ? 2 : x >= 0.01 || x === 0 ? 4 : 6)}`
  const byService = Object.entries(dollars.perMillionMessages.byService)
    .sort((a, b) => b[1] - a[1])
    .map(([service, x]) => `${service} ${usd(x)}`)
    .join(', ')
  const hand = dollars.overridden.length ? `; set by hand: ${dollars.overridden.join(', ')}` : ''
  const shardLines = dollars.fixedMonthly.lines.filter((l) => l.item === 'kinesis.shardHour')
  const tickLines = dollars.fixedMonthly.lines.filter((l) => l.item !== 'kinesis.shardHour')
  const shards = dollars.fixedMonthly.shards
  const fixedParts = [
    ...(shardLines.length ? [`${shards} shard${shards === 1 ? '' : 's'} ${usd(total(shardLines))}`] : []),
    ...(tickLines.length ? [`the tick ${usd(total(tickLines))}`] : []),
  ].join(', ')
  return [
    head,
    table(
      ['API', 'requests', 'errors', 'bytes out', 'bytes in', 'units', '$ per M msgs'],
      Object.entries(cost.byApi).map(([api, c]) => [api, c.requests, c.errors, c.requestBytes, c.responseBytes, c.units ?? 0, dollars.perMillionByApi[api] === undefined ? '' : usd(dollars.perMillionByApi[api]!)]),
    ),
    '',
    cost.messages === 0
      ? 'per million messages: - (no messages yet)'
      : `per million messages: ${usd(dollars.perMillionMessages.usd)}${byService ? ` (${byService})` : ''}`,
    `a month, messages or not: ${usd(dollars.fixedMonthly.usd)} (${fixedParts || 'nothing'})`,
    `prices: ${dollars.region} list prices of ${dollars.pricesDate}${hand}`,
    ...dollars.assumptions.map((a) => `assumed: ${a}`),
  ].join('\n')
}
