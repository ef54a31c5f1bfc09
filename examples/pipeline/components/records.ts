// The records that flow through the pipeline.

/** One line of the readings file, as read. */
export interface Line {
  file: string
  lineNo: number
  text: string
}

/** A parsed reading. */
export interface Reading {
  /** `<station>@<time>`: the same reading read twice is one row. */
  id: string
  station: string
  /** ISO 8601. */
  at: string
  celsius: number
  /** The sensor's raw samples behind the reading, when the station sent them (a large record). */
  samples?: number[]
}

/** A reading with what the enrich step adds. */
export interface EnrichedReading extends Reading {
  fahrenheit: number
  /** Colder than -30 °C or hotter than 45 °C. */
  extreme: boolean
}
