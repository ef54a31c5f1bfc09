import { EmbeddedSystem } from './embedded/embedded-system.js'
import type { System } from '../core/system.js'
import type { SystemOptions } from './embedded/system-options.js'

/**
 * Starts a system of actors. Without transport options it is the embedded system:
 * everything in this process, no cloud account.
 *
 * @example
 * const system = createSystem({ actors: [PageView, PageStats] })
 * await system.tell(PageView, { url: '/home', ip: '1.2.3.4', ua: 'Mozilla/5.0' })
 * await system.stop()
 */
export function createSystem(options: SystemOptions): System {
  return new EmbeddedSystem(options)
}
