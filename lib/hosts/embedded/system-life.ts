/**
 * Where an embedded system is in its life: running from the end of its constructor; stopping from
 * `stop()` (nothing new is taken from outside a turn); stopped once the stop's drain ended
 * (anything a turn that outlived it sends is dead-lettered at once). Read as a plain field by the
 * system and its intake alike. One field the system's constructor already moves: a flag first
 * written by a stop would have V8 drop the optimized code of every turn that read it, and the
 * next system would start cold.
 */
export class SystemLife {
  phase: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting'

  /** stop() was called: nothing more is taken from outside a turn. */
  get stopping(): boolean {
    return this.phase === 'stopping' || this.phase === 'stopped'
  }
}
