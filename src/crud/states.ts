/** Document state transitions (crud-api.md §4). */
import type { DocumentState } from '../config/sections/collections.js';

const ALLOWED: Readonly<Record<DocumentState, ReadonlySet<DocumentState>>> = {
  PUBLIC: new Set(['PUBLIC', 'DRAFT', 'TRASH']),
  DRAFT: new Set(['PUBLIC', 'DRAFT', 'TRASH']),
  TRASH: new Set(['DRAFT', 'TRASH', 'DELETED']),
  DELETED: new Set(['TRASH', 'DELETED']),
};

/** True when a document in state `from` may move to `to`. */
export const canTransition = (from: DocumentState, to: DocumentState): boolean => ALLOWED[from].has(to);

/** The states a document may come from to reach `to`. */
export function sourcesOf(to: DocumentState): DocumentState[] {
  return (Object.keys(ALLOWED) as DocumentState[]).filter((from) => ALLOWED[from].has(to));
}
