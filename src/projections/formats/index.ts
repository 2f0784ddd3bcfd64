/** The parser of each built-in ingestion format (fast-data.md §2); `custom` is built from the adapter hook. */
import { parseDb2 } from './db2.js';
import { parseDebezium } from './debezium.js';
import { parseGoldenGate } from './golden-gate.js';
import type { FormatParser } from './types.js';

export { customParser, type MessageAdapter } from './custom.js';
export type { CounterType, FormatParser, Image, ParsedChange, ParseResult } from './types.js';

export const BUILTIN_FORMATS: Readonly<Record<'debezium' | 'golden-gate' | 'db2' | 'basic', FormatParser>> = {
  debezium: parseDebezium,
  'golden-gate': parseGoldenGate,
  db2: parseDb2,
  basic: parseDb2,
};
