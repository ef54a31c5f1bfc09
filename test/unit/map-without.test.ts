import t from 'tap'
import { mapWithout } from '../../lib/core/map-without.js'

t.test('mapWithout deletes in place while entries remain, and gives a fresh map for the last', async (t) => {
  const map = new Map([
    ['a', 1],
    ['b', 2],
  ])
  const kept = mapWithout(map, 'a')
  t.equal(kept, map, 'the same map while an entry remains')
  t.same([...kept], [['b', 2]])
  t.equal(mapWithout(kept, 'x'), kept, 'a key it does not have changes nothing')
  t.same([...kept], [['b', 2]])
  const emptied = mapWithout(kept, 'b')
  t.not(emptied, kept, 'a new map once the last entry goes')
  t.equal(emptied.size, 0)
})
