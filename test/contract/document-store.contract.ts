/**
 * The DocumentStore contract (STYLE §4): every adapter runs these cases through `documentStoreContract`.
 * `create` returns a started store on a fresh, empty database (a random suffix per call), so cases never see
 * each other's data. Cases are grouped by area in `test/contract/document-store/`; a case an adapter cannot
 * pass is listed in `unsupported` with the reason (printed as a skip), never dropped. A listed name that is
 * not a case fails the suite, so the list cannot rot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DocumentStore } from '../../src/ports/document-store.js';
import { aggregateCases } from './document-store/aggregate.cases.js';
import { concurrencyCases } from './document-store/concurrency.cases.js';
import { findCases } from './document-store/find.cases.js';
import type { CaseGroup } from './document-store/harness.js';
import { indexCases } from './document-store/index.cases.js';
import { insertCases } from './document-store/insert.cases.js';
import { lifecycleCases } from './document-store/lifecycle.cases.js';
import { searchCases } from './document-store/search.cases.js';
import { transactionCases } from './document-store/transaction.cases.js';
import { updateCases } from './document-store/update.cases.js';
import { writeCases } from './document-store/write.cases.js';

export interface DocumentStoreContractOptions {
  readonly name: string;
  /** A started store on a fresh database; the suite closes it after the case. */
  readonly create: () => Promise<DocumentStore>;
  /** Optional clean-up after `close()` (drop the database, remove the directory). */
  readonly destroy?: (store: DocumentStore) => Promise<void>;
  /** `"<group>: <case>"` -> reason it does not apply to this adapter (printed as a skip). */
  readonly unsupported?: Readonly<Record<string, string>>;
  /** Skips the whole suite with this reason (e.g. no server configured). */
  readonly skip?: string;
}

export const DOCUMENT_STORE_CASE_GROUPS: readonly CaseGroup[] = [
  lifecycleCases,
  insertCases,
  findCases,
  updateCases,
  writeCases,
  aggregateCases,
  indexCases,
  searchCases,
  transactionCases,
  concurrencyCases,
];

/** Every case id, `"<group>: <case>"`. */
export function documentStoreCaseIds(): string[] {
  return DOCUMENT_STORE_CASE_GROUPS.flatMap((g) => Object.keys(g.cases).map((c) => `${g.name}: ${c}`));
}

export function documentStoreContract(options: DocumentStoreContractOptions): void {
  const unsupported = options.unsupported ?? {};
  describe(`DocumentStore contract: ${options.name}`, options.skip === undefined ? {} : { skip: options.skip }, () => {
    it('lists only existing cases as unsupported', () => {
      const ids = new Set(documentStoreCaseIds());
      assert.deepEqual(Object.keys(unsupported).filter((k) => !ids.has(k)), []);
    });
    for (const group of DOCUMENT_STORE_CASE_GROUPS) {
      describe(group.name, () => {
        for (const [title, run] of Object.entries(group.cases)) {
          const reason = unsupported[`${group.name}: ${title}`];
          it(title, reason === undefined ? {} : { skip: `unsupported on ${options.name}: ${reason}` }, async () => {
            const store = await options.create();
            try {
              await run({ store, coll: (name = 'things') => store.collection(name) });
            } finally {
              await store.close();
              await options.destroy?.(store);
            }
          });
        }
      });
    }
  });
}
