// The pipeline: a source, two transforms, a sink.
import { pipeline } from 'troupe'
import { CsvSource } from './components/CsvSource.js'
import { Enrich } from './components/Enrich.js'
import { ParseReading } from './components/ParseReading.js'
import { SqliteSink } from './components/SqliteSink.js'

export const readings = pipeline('readings').from(CsvSource).each(ParseReading).pipe(Enrich).pipe(SqliteSink)
