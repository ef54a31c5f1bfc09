// A change to an instance's bookkeeping made outside a turn (a pause, a resume, a replay): the item
// is read, its bookkeeping changed, and written back under its version, with the state as it is;
// a host committing the same instance at the same moment makes it read and try again.
import { StoreConflictError, TroupeError } from '../../core/errors.js'
import { encode } from '../../core/serialization.js'
import type { StateStore } from '../../store/index.js'
import { unreadableVersionError } from '../../turn/state-version.js'
import { decodeMeta, encodeMeta, type InstanceMeta } from './instance-meta.js'

/** Rounds of read-and-write when a host commits the same instance at the same moment. */
const MAX_ROUNDS = 20

/**
 * Changes the bookkeeping of instance `type#key` with `change` (which says whether it changed
 * anything: nothing is written otherwise). Resolves to the bookkeeping as written, or as read.
 * `what` names the change in the error when hosts keep winning the race.
 */
export async function changeInstanceMeta(
  state: Pick<StateStore, 'get' | 'put'>,
  now: () => number,
  type: string,
  key: string,
  change: (meta: InstanceMeta) => boolean,
  what: string,
): Promise<InstanceMeta> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const stored = await state.get(type, key)
    // Written back, its version would be lost: an item whose version is no number is left as it is.
    if (stored?.unreadableVersion !== undefined) throw unreadableVersionError(type, key, stored.unreadableVersion)
    const meta = decodeMeta(stored?.meta)
    if (!change(meta)) return meta
    try {
      await state.put(
        type,
        key,
        // The state as it is, with the version of the code that wrote it.
        { state: stored?.state ?? encode(undefined), ...(stored?.stateVersion !== undefined ? { stateVersion: stored.stateVersion } : {}), version: (stored?.version ?? 0) + 1, updatedAt: stored?.updatedAt ?? now(), meta: encodeMeta(meta) },
        stored?.version,
      )
      return meta
    } catch (error) {
      if (!(error instanceof StoreConflictError)) throw error
    }
  }
  throw new TroupeError('TROUPE_STORE_BUSY', `could not change ${what} of ${type}#${key}: ${MAX_ROUNDS} writes in a row lost to hosts committing it`)
}
