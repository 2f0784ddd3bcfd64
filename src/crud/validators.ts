/**
 * The two ajv instances of the CRUD routes, with Mia's coercion: query strings coerce scalars and accept a
 * single value where a list is expected; bodies coerce numbers and booleans sent as strings. Strict mode is
 * off because collection JSON Schemas carry Mia keywords (`__mia_configuration`, `nullable`).
 */
import { Ajv } from 'ajv';
import * as addFormatsModule from 'ajv-formats';
import type { Validators } from './collection-plugin.js';

// ajv-formats is CommonJS with a default export; under NodeNext its default import is the module object.
type AddFormats = (ajv: Ajv, formats: readonly string[]) => Ajv;
const formatsExport = addFormatsModule.default as unknown as AddFormats | { default: AddFormats };
const addFormats: AddFormats = typeof formatsExport === 'function' ? formatsExport : formatsExport.default;

function create(coerceTypes: boolean | 'array'): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats(ajv, ['date-time', 'date', 'time', 'duration', 'email', 'uri', 'uuid']);
  ajv.addKeyword({ keyword: '__mia_configuration' });
  return ajv;
}

export function createValidators(): Validators {
  return { query: create('array'), body: create(true) };
}
