/**
 * The normalised change every ingestion format produces (fast-data.md §2): images use SOURCE column names;
 * renaming and casts happen in the projection. `position` is the ordering counter (§3.3), `null` when the
 * format has none and the system of record falls back to the Kafka timestamp.
 */
import type { ConsumedMessage } from '../../ports/event-bus.js';

export type Image = Readonly<Record<string, unknown>>;

export type CounterType = 'timestamp' | 'offset' | 'ts_ms' | 'lsn' | 'pos' | 'custom';

export interface ParsedChange {
  readonly kind: 'change';
  readonly operation: 'I' | 'U' | 'D';
  /** The key object (source PK columns) when the message key carries one. */
  readonly key: Image | null;
  /** The raw string key (golden-gate keys are `pk1_pk2`). */
  readonly rawKey: string | null;
  readonly before: Image | null;
  readonly after: Image | null;
  /** Format-provided position (number, or a decimal string for lsn/pos), or null. */
  readonly position: number | string | null;
  readonly counterType: CounterType | null;
  /** Source time (epoch ms), when the format has one. */
  readonly timestamp: number | null;
}

export interface SkippedMessage {
  readonly kind: 'skip';
  /** `tombstone`, `truncate`, `adapter-null`. */
  readonly reason: string;
}

export type ParseResult = ParsedChange | SkippedMessage;

/** What a format parser receives besides the message. */
export interface ParseOptions {
  /** Source PK column names. */
  readonly primaryKeys: readonly string[];
  /** `source.ts_ms` or `source.lsn` for Debezium. */
  readonly position?: string;
}

export type FormatParser = (message: ConsumedMessage, options: ParseOptions) => ParseResult | Promise<ParseResult>;
