// The tables `troupe inspect` prints: columns padded with spaces, the header underlined with
// dashes, numbers right-aligned. No box drawing, so the output greps, diffs and pastes well;
// a wide cell keeps its whole line (a terminal may wrap it) instead of being cut or folded.

const GAP = '  '

/** `head` and `rows` as text; a row's missing cells are empty; no rows prints `(none)`. */
export function textTable(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => head.map((_, i) => cellText(row[i])))
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)))
  // A column is numeric when every cell given is a number: those line up on the right.
  const numeric = head.map((_, i) => rows.some((row) => typeof row[i] === 'number') && rows.every((row) => row[i] === undefined || row[i] === '' || typeof row[i] === 'number'))
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join(GAP)
      .trimEnd()
  const lines = [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)]
  if (rows.length === 0) lines.push('(none)')
  return lines.join('\n')
}

/** One line: a cell's line breaks become spaces, so a row stays a row. */
function cellText(value: unknown): string {
  if (value === undefined || value === null) return ''
  return String(value).replace(/\s*[\r\n]+\s*/g, ' ')
}
