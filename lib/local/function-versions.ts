// A local function's versions and the alias that routes to them, as a code update behind an alias
// does on AWS (local-function.ts has what happens to the environments): every bundle published as
// a version ('2', '3', …; the first bundle is the function's first version), the version new
// invocations go to, and a canary beside it that takes a share of them (AdditionalVersionWeights).
import { resolve } from 'node:path'
import { ConfigError } from '../core/errors.js'
import type { EnvironmentSpec } from './execution-environment.js'
import { checkVersionName, type FunctionSettings } from './function-options.js'

export interface DeployOptions {
  /**
   * The new version's share of new invocations, from 0 to 1; the rest go to the version routed
   * before (a weighted alias). @default 1: every new invocation, and the other versions retire
   */
  weight?: number
  /** The new version's name. @default the next number: '2' after the first bundle, then '3', … */
  version?: string
}

export class FunctionVersions {
  /** Every version published, the first bundle's first. */
  private readonly published: EnvironmentSpec[]
  /** The version new invocations go to, but for the canary's share. */
  primary: EnvironmentSpec
  private canary: { code: EnvironmentSpec; weight: number } | undefined

  constructor(private readonly settings: FunctionSettings) {
    this.primary = settings
    this.published = [settings]
  }

  /** The versions new invocations go to, with their shares. */
  routing(): Record<string, number> {
    const { primary, canary } = this
    return canary === undefined ? { [primary.version]: 1 } : { [primary.version]: 1 - canary.weight, [canary.code.version]: canary.weight }
  }

  /** Whether new invocations may go to `version`. */
  routes(version: string): boolean {
    return version === this.primary.version || version === this.canary?.code.version
  }

  /** The version an invocation goes to: the canary's share, drawn per invocation, else the primary. */
  route(): EnvironmentSpec {
    const { canary } = this
    return canary !== undefined && this.settings.random() < canary.weight ? canary.code : this.primary
  }

  /** Publishes `bundle` (or finds the version that file was published as) and routes to it; see LocalFunction.deploy. */
  deploy(bundle: string, options: DeployOptions): EnvironmentSpec {
    const { name } = this.settings
    const { weight = 1 } = options
    if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) throw new ConfigError(`LocalFunction.deploy weight must be a number from 0 to 1, got ${String(weight)}`)
    const file = resolve(bundle)
    let code = this.published.find((c) => c.bundle === file)
    if (options.version !== undefined) {
      checkVersionName(options.version)
      const named = this.published.find((c) => c.version === options.version)
      if (named !== undefined && named !== code) throw new ConfigError(`LocalFunction.deploy: version ${options.version} of ${name} is ${named.bundle}, not ${file}`)
      if (code !== undefined && code.version !== options.version) throw new ConfigError(`LocalFunction.deploy: ${file} is published as version ${code.version} of ${name} already`)
    }
    if (code === undefined) {
      const version = options.version ?? String(this.published.length + 1)
      if (this.published.some((c) => c.version === version)) throw new ConfigError(`LocalFunction.deploy: version ${version} of ${name} exists; name the new one`)
      code = this.settings.codeSpec(file, version)
      this.published.push(code)
    }
    if (weight === 1) {
      this.primary = code
      this.canary = undefined
    } else {
      if (code === this.primary) throw new ConfigError(`LocalFunction.deploy: version ${code.version} of ${name} is the one routed already; a weight is for a new version beside it`)
      this.canary = { code, weight }
    }
    return code
  }
}
