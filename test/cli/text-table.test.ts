// The tables of `troupe inspect`: padded columns under an underlined header, no box drawing.
import t from 'tap'
import { textTable } from '../../lib/cli/text-table.js'

t.test('columns padded to their widest cell, the header underlined, numbers on the right', async (t) => {
  const text = textTable(
    ['actor', 'kind', 'dead', 'paused'],
    [
      ['pageStats', 'keyed', 12, ''],
      ['geo', 'stateless', 0, 'all'],
    ],
  )
  t.equal(
    text,
    [
      'actor      kind       dead  paused',
      '---------  ---------  ----  ------',
      'pageStats  keyed        12',
      'geo        stateless     0  all',
    ].join('\n'),
  )
})

t.test('a wide cell stays on one line; a line break in it becomes a space; missing cells are empty', async (t) => {
  const wide = 'x'.repeat(300)
  const lines = textTable(['id', 'error'], [['m1', `${wide}\n  at line 2`], ['m2']]).split('\n')
  t.equal(lines.length, 4, 'header, rule and one line per row')
  t.equal(lines[2], `m1  ${wide} at line 2`)
  t.equal(lines[3], 'm2', 'no trailing spaces')
})

t.test('no rows: the header, then (none)', async (t) => {
  t.equal(textTable(['fork', 'join'], []), 'fork  join\n----  ----\n(none)')
})
