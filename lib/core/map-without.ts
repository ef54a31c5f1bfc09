// Deleting from a Map that outlives its entries. V8 gives a Map a smaller table as its entries go
// and a larger one as they come back (and one of the same size once deleted slots fill it), and
// allocates that table in the old generation once the Map's own table is old. The embedded
// system's maps that go from empty to an entry and back for every fork (its waiting caller, its
// joiner's instance, its deadline timer, its children's statuses) so left about 630 bytes of
// old-generation garbage per fork/join, which only a full collection takes back. When the last
// entry goes, a fresh map, young like the garbage of a turn, takes the old one's place instead.
// A map that never empties (many forks in flight) still rebuilds its tables there.

/**
 * `map` without `key`: `map` itself, or a new empty map when `key` was its only entry (the caller
 * keeps the map it gets back, and nothing else may hold on to the old one).
 */
export function mapWithout<K, V>(map: Map<K, V>, key: K): Map<K, V> {
  if (map.size === 1 && map.has(key)) return new Map()
  map.delete(key)
  return map
}
