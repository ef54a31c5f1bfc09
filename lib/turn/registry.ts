import type { ActorClass } from '../core/actor.js'
import { ConfigError, UnknownActorError } from '../core/errors.js'
import type { ActorType } from './actor-type.js'

/** Types the runtime keeps for its own actors. */
const RESERVED_PREFIX = 'troupe.'

/**
 * A host's actor types, by class and by name: the user's classes and troupe's own. Names are
 * unique, and `troupe.` names are troupe's. A lookup of a class finds it, or the registered
 * class of the same name that extends it (a pipeline registers its stages as subclasses of the
 * user's classes), so `tell(Validate, …)` reaches the registered stage.
 */
export class ActorRegistry<T extends ActorType> {
  readonly byType = new Map<string, T>()
  private readonly byClass = new Map<ActorClass, T>()
  /** The target of the last lookup and its type: a producer tells one type many times in a row. */
  private lastTarget: ActorClass | string | undefined
  private lastType: T | undefined

  constructor(actors: readonly ActorClass[], builtins: readonly ActorClass[], make: (cls: ActorClass) => T) {
    if (!Array.isArray(actors)) throw new ConfigError('createSystem({ actors }) needs an array of actor classes')
    for (const cls of actors) {
      const name = (cls as { type?: unknown })?.type
      if (typeof name === 'string' && name.startsWith(RESERVED_PREFIX)) {
        throw new ConfigError(`actor ${cls.name} is named "${name}"; types starting with "${RESERVED_PREFIX}" are troupe's own`)
      }
    }
    for (const cls of [...actors, ...builtins]) {
      const type = make(cls)
      const twin = this.byType.get(type.type)
      if (twin) throw new ConfigError(`two actor classes are named "${type.type}": ${twin.cls.name} and ${cls.name}; static type must be unique`)
      this.byType.set(type.type, type)
      this.byClass.set(cls, type)
    }
  }

  /** The type of a class or name; throws naming the known ones. */
  get(target: ActorClass | string): T {
    if (target === this.lastTarget) return this.lastType!
    const type = typeof target === 'string' ? this.byType.get(target) : this.ofClass(target)
    if (type === undefined) {
      const name = typeof target === 'string' ? target : `${String((target as { type?: unknown })?.type)} (class ${(target as { name?: string })?.name})`
      throw new UnknownActorError(name, this.names())
    }
    this.lastTarget = target
    this.lastType = type
    return type
  }

  /** The type of a name, if registered. */
  find(name: string): T | undefined {
    return this.byType.get(name)
  }

  names(): string[] {
    return [...this.byType.keys()]
  }

  values(): IterableIterator<T> {
    return this.byType.values()
  }

  private ofClass(target: ActorClass): T | undefined {
    const found = this.byClass.get(target)
    if (found) return found
    const named = typeof target?.type === 'string' ? this.byType.get(target.type) : undefined
    return named && typeof target === 'function' && named.cls.prototype instanceof target ? named : undefined
  }
}
