/**
 * The single-view errors collection (fast-data.md §5 "SV errors"; Mia's `fd-sv-errors` shape): one document
 * per failure or rejected document, `{portfolioOrigin, type: <view>, identifier, errorType, errorMessage,
 * resolutionMethod: "AGGREGATION", createdAt, updatedAt}`. A TTL index on `createdAt` is the operator's
 * choice (the engine never deletes these documents).
 */
import type { Collection } from '../../ports/document-store.js';

/** Default collection of single-view errors. */
export const SV_ERRORS_COLLECTION = 'fd-sv-errors';

export type SvErrorType = 'NO_SV_GENERATED' | 'VALIDATION_ERROR' | 'ERROR_SEND_SVC_EVENT' | 'SINGLE_VIEW_AGGREGATION_MAX_TIME' | 'UNKNOWN_ERROR';

export interface SvErrorLog {
  record(view: string, identifier: Readonly<Record<string, unknown>>, errorType: SvErrorType, errorMessage: string): Promise<void>;
}

/** Records errors of the views of one project (`origin`) in `collection`. */
export function createSvErrorLog(collection: Pick<Collection, 'insertOne'>, origin: string, now: () => Date): SvErrorLog {
  return {
    async record(view, identifier, errorType, errorMessage) {
      const at = now();
      await collection.insertOne({ portfolioOrigin: origin, type: view, identifier: { ...identifier }, errorType, errorMessage, resolutionMethod: 'AGGREGATION', createdAt: at, updatedAt: at });
    },
  };
}
