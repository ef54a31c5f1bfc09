// The sink's store: SQLite through sql.js (SQLite compiled to WebAssembly, shipped inside the
// npm package: nothing to build or download). Kept in memory and saved to its file a moment
// after each write, and on close.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname } from 'node:path'
import initSqlJs, { type Database } from 'sql.js'
import type { LineageStep } from 'troupe'
import type { EnrichedReading } from './components/records.js'

const SAVE_AFTER_MS = 100

export interface ReadingsDb {
  readonly file: string
  write(reading: EnrichedReading, lineage: LineageStep[]): void
  /** Runs a query; rows as objects. */
  query(sql: string, params?: (string | number)[]): Record<string, unknown>[]
  save(): void
  close(): void
}

let current: Promise<ReadingsDb> | undefined
let currentFile = process.env.READINGS_DB ?? '.troupe/readings.sqlite'

/** Where the sink writes from now on (closing the one open before). */
export function useDatabase(file: string): void {
  if (current) void current.then((db) => db.close())
  current = undefined
  currentFile = file
}

/** The open database, opened (or created) on first use. */
export function database(): Promise<ReadingsDb> {
  current ??= open(currentFile)
  return current
}

export async function closeDatabase(): Promise<void> {
  const db = await current
  current = undefined
  db?.close()
}

async function open(file: string): Promise<ReadingsDb> {
  const SQL = await initSqlJs()
  const db: Database = existsSync(file) ? new SQL.Database(readFileSync(file)) : new SQL.Database()
  db.run(`CREATE TABLE IF NOT EXISTS readings (
    id TEXT PRIMARY KEY, station TEXT NOT NULL, at TEXT NOT NULL,
    celsius REAL NOT NULL, fahrenheit REAL NOT NULL, extreme INTEGER NOT NULL,
    lineage TEXT NOT NULL
  )`)
  // Raw samples apart from the readings, so a file made before they existed still opens.
  db.run('CREATE TABLE IF NOT EXISTS samples (id TEXT PRIMARY KEY, samples TEXT NOT NULL)')
  let timer: NodeJS.Timeout | undefined
  const save = () => {
    clearTimeout(timer)
    timer = undefined
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, db.export())
  }
  return {
    file,
    write(r, lineage) {
      db.run('INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?, ?, ?, ?)', [r.id, r.station, r.at, r.celsius, r.fahrenheit, r.extreme ? 1 : 0, JSON.stringify(lineage)])
      if (r.samples) db.run('INSERT OR REPLACE INTO samples VALUES (?, ?)', [r.id, JSON.stringify(r.samples)])
      timer ??= setTimeout(save, SAVE_AFTER_MS)
    },
    query(sql, params = []) {
      const statement = db.prepare(sql, params)
      const rows: Record<string, unknown>[] = []
      while (statement.step()) rows.push(statement.getAsObject())
      statement.free()
      return rows
    },
    save,
    close() {
      save()
      db.close()
    },
  }
}
