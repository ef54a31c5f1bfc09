// A Powertools for AWS Lambda Logger (`@aws-lambda-powertools/logger`) as troupe's logger. troupe
// takes it by its shape and never imports Powertools: a function that does not use it bundles none.
import type { Logger } from '../core/logger.js'

/**
 * What troupe calls on a Powertools Logger: its levels, each with a message and the line's keys
 * (`logger.info('message', { key: value })`). A Powertools `Logger` is one, as is a child of it.
 */
export interface PowertoolsLogger {
  debug(message: string, ...attributes: Record<string, unknown>[]): void
  info(message: string, ...attributes: Record<string, unknown>[]): void
  warn(message: string, ...attributes: Record<string, unknown>[]): void
  error(message: string, ...attributes: Record<string, unknown>[]): void
}

/**
 * troupe's logger writing through a Powertools Logger: every line, `ctx.log`'s and troupe's own,
 * is one of that logger's, with its service, level, Lambda context and keys, and troupe's fields
 * (`actor`, `key`, `messageId`, `correlationId`, …) as keys of the line.
 *
 * A child (`ctx.log` is one per turn) adds its fields to each line it logs through the same
 * Powertools logger, rather than being a `createChild()` of it: createChild builds a whole Logger
 * (about 0.1 ms, against a turn's microseconds), and copies the level, keys, Lambda context,
 * sampling and log buffer as they are, so what a function then does to its logger on each
 * invocation (`injectLambdaContext`, `appendKeys`, `setLogLevel`, `flushBuffer`) would not reach it.
 *
 * @example
 * import { Logger } from '@aws-lambda-powertools/logger'
 * import { createLambdaHandler, fromPowertools } from 'troupe/lambda'
 *
 * const logger = new Logger({ serviceName: 'orders' })
 * export const handler = createLambdaHandler({ actors, logger: fromPowertools(logger) })
 */
export function fromPowertools(logger: PowertoolsLogger): Logger {
  return withFields(logger, undefined)
}

function withFields(logger: PowertoolsLogger, fields: Record<string, unknown> | undefined): Logger {
  const at = (level: keyof PowertoolsLogger) => (message: string, extra?: Record<string, unknown>) => {
    const keys = fields === undefined ? extra : extra === undefined ? fields : { ...fields, ...extra }
    if (keys === undefined) logger[level](message)
    else logger[level](message, keys)
  }
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => withFields(logger, { ...fields, ...more }),
  }
}
