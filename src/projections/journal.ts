/**
 * The trigger journal's claims and event outbox (fast-data.md §4 (c), §5). One entry per (view,
 * identifier), `_id` `<view>\0<identifier key>`, shared by every process on the store:
 * `{view, identifier, at, seq, claimedBy?, claimUntil?, events?}`.
 * - **Ready-marking** (`markReady`): an upsert that increments `seq` and never touches a claim.
 * - **Claim** (`claim`): an absent entry is inserted claimed (a concurrent insert of the same `_id` loses on
 *   the unique `_id`); an existing one gets one atomic conditional update setting `claimedBy` (a token of
 *   this computation round) and `claimUntil`, not taken while someone else's claim has not expired. The
 *   claimed entries are read back with their `seq` and recorded events.
 * - **Outbox** (`record`): the sv-update events of a computation are written on its entries before the view
 *   write; they are produced first by whichever run claims the entry next, and cleared on completion.
 * - **Completion** (`complete`): an entry whose `seq` is unchanged since the claim is deleted; one marked
 *   ready again meanwhile only loses its claim and events, and stays ready for the next computation.
 */
import { randomUUID } from 'node:crypto';
import { isMiaRunError } from '../errors.js';
import type { Collection, Document } from '../ports/document-store.js';
import type { EventBus, OutgoingMessage } from '../ports/event-bus.js';
import { hasEventRecords } from './topics/view-runner.js';

/** A sv-update (or chaining) event as stored on a journal entry. */
export interface RecordedEvent {
  readonly topic: string;
  readonly key: string | null;
  readonly value: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** What the view runner needs to re-encode or chain the event (`EventRecords.describe`). */
  readonly record?: unknown;
}

/** One identifier to claim. */
export interface ClaimRequest {
  readonly id: string;
  readonly view: string;
  readonly identifier: Readonly<Record<string, unknown>>;
  /** Epoch ms when the claim expires if never completed. */
  readonly until: number;
}

export interface Claimed {
  /** Entries now claimed by `token`, with their `seq` and recorded events. */
  readonly owned: ReadonlyMap<string, { readonly seq: number; readonly events: readonly RecordedEvent[] }>;
  readonly token: string;
}

/** Claims the entries it can (others are left to a later try); never waits. */
export async function claim(journal: Collection, requests: readonly ClaimRequest[], now: number): Promise<Claimed> {
  const token = randomUUID();
  if (requests.length === 0) return { owned: new Map(), token };
  const ids = requests.map((r) => r.id);
  // Usually the journal holds none of them: one read, then plain inserts (no per-entry conditional update).
  const existing = new Set((await journal.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
  const ops = requests.map((r) => existing.has(r.id)
    ? { updateOne: { filter: { _id: r.id, $or: [{ claimUntil: { $exists: false } }, { claimUntil: null }, { claimUntil: { $lte: now } }] }, update: { $set: { claimedBy: token, claimUntil: r.until } } } }
    : { insertOne: { document: { _id: r.id, view: r.view, identifier: { ...r.identifier }, at: now, seq: 1, claimOnly: true, claimedBy: token, claimUntil: r.until } } });
  let raced = false;
  try {
    await journal.bulkWrite(ops, { ordered: false });
  } catch (error) {
    // An insert racing with another claimer's (or a ready-marking's) insert of the same entry: not ours.
    if (!isMiaRunError(error) || error.code !== 'MR_STORE_DUPLICATE_KEY') throw error;
    raced = true;
  }
  if (existing.size === 0 && !raced) return { owned: new Map(ids.map((id) => [id, { seq: 1, events: [] }])), token };
  const docs = await journal.find({ _id: { $in: ids }, claimedBy: token }).toArray();
  return { owned: new Map(docs.map((d) => [String(d._id), { seq: Number(d.seq ?? 0), events: (d.events as RecordedEvent[] | undefined) ?? [] }])), token };
}

/** Marks identifiers ready (intents, paused views, busy claims): `seq` + 1, claims untouched. */
export async function markReady(journal: Collection, entries: readonly { readonly id: string; readonly view: string; readonly identifier: Readonly<Record<string, unknown>>; readonly extra?: Document }[], now: number): Promise<void> {
  if (entries.length === 0) return;
  await journal.bulkWrite(entries.map((e) => ({
    updateOne: { filter: { _id: e.id }, update: { $set: { view: e.view, identifier: { ...e.identifier }, ...e.extra }, $setOnInsert: { at: now }, $inc: { seq: 1 }, $unset: { claimOnly: '' } }, upsert: true },
  })));
}

/** Writes the events of a computation on its claimed entries (before the view write). */
export async function record(journal: Collection, token: string, events: ReadonlyMap<string, readonly RecordedEvent[]>): Promise<void> {
  if (events.size === 0) return;
  await journal.bulkWrite([...events].map(([id, list]) => ({ updateOne: { filter: { _id: id, claimedBy: token }, update: { $set: { events: list } } } })));
}

/** After the view writes and the events' acknowledgement: deletes untouched entries, releases the others. */
export async function complete(journal: Collection, claimed: Claimed, ids: Iterable<string>): Promise<void> {
  const list = [...ids];
  if (list.length === 0) return;
  const bySeq = new Map<number, string[]>();
  for (const id of list) {
    const seq = claimed.owned.get(id)?.seq ?? -1;
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), id]);
  }
  let deleted = 0;
  for (const [seq, group] of bySeq) deleted += (await journal.deleteMany({ _id: { $in: group }, claimedBy: claimed.token, seq })).deletedCount;
  if (deleted < list.length) await journal.updateMany({ _id: { $in: list }, claimedBy: claimed.token }, { $unset: { claimedBy: '', claimUntil: '', events: '' } });
}

/** Gives the claims back without completing (a failed run): entries and their recorded events stay. */
export async function release(journal: Collection, claimed: Claimed): Promise<void> {
  if (claimed.owned.size === 0) return;
  // Entries that only existed for this claim (never marked ready, no recorded event) go away with it.
  await journal.deleteMany({ _id: { $in: [...claimed.owned.keys()] }, claimedBy: claimed.token, claimOnly: true, events: { $exists: false } });
  await journal.updateMany({ _id: { $in: [...claimed.owned.keys()] }, claimedBy: claimed.token }, { $unset: { claimedBy: '', claimUntil: '' } });
}

/** The message of a recorded event, with its view change handed back to the runner when `bus` is the runner's. */
export function recordedMessage(event: RecordedEvent, bus: object | undefined): OutgoingMessage {
  const message: OutgoingMessage = { key: event.key, value: event.value as OutgoingMessage['value'], ...(event.headers === undefined ? {} : { headers: event.headers }) };
  if (event.record !== undefined && bus !== undefined && hasEventRecords(bus)) bus.restore(message, event.record);
  return message;
}

/** Produces the events recorded on `entries` (in entry order), e.g. before a drain deletes them. */
export async function produceRecorded(bus: Pick<EventBus, 'publish'>, entries: readonly Document[]): Promise<void> {
  for (const entry of entries) {
    for (const event of (entry.events as RecordedEvent[] | undefined) ?? []) await bus.publish(event.topic, [recordedMessage(event, bus)]);
  }
}
