// The memory stores (the embedded default) against the store conformance suite. No server.
import t from 'tap'
import { memoryStores } from '../../lib/store/memory.js'
import { storeConformance } from '../../lib/testing/store-conformance.js'

storeConformance(t, async () => memoryStores())
