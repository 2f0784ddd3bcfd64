/**
 * JSON Schema (draft-07, as the routes validate with) to an OpenAPI 3.0 Schema Object: only the keywords
 * OpenAPI 3.0 knows are kept, and the draft-07 forms it lacks are rewritten (`type` lists become one type
 * plus `nullable`, `const` an `enum`, tuple `items` one item schema, numeric `exclusiveMinimum` the boolean
 * form). What cannot be expressed (`patternProperties`, `if`, `propertyNames`, ...) is dropped: the
 * document describes; the route still validates with the full schema.
 */

type Schema = Record<string, unknown>;

const KEPT = new Set([
  'title', 'description', 'default', 'example', 'deprecated', 'readOnly', 'writeOnly', 'nullable', 'format',
  'type', 'enum', 'multipleOf', 'maximum', 'minimum', 'exclusiveMaximum', 'exclusiveMinimum', 'maxLength',
  'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required',
  'items', 'properties', 'additionalProperties', 'allOf', 'oneOf', 'anyOf', 'not', '$ref',
]);
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);

const isRecord = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One schema (any value; `true`/`{}` mean anything) as an OpenAPI 3.0 Schema Object. */
export function toOpenApiSchema(input: unknown): Schema {
  if (!isRecord(input)) return {};
  if (typeof input.$ref === 'string') return { $ref: input.$ref };
  const out: Schema = {};
  for (const [key, value] of Object.entries(input)) {
    if (!KEPT.has(key)) continue;
    switch (key) {
      case 'type': {
        const types = (Array.isArray(value) ? value : [value]).filter((t): t is string => typeof t === 'string');
        const real = types.filter((t) => TYPES.has(t));
        if (types.includes('null')) out.nullable = true;
        // Several non-null types have no 3.0 form but `oneOf`; the first one is enough to describe.
        if (real[0] !== undefined) out.type = real[0];
        break;
      }
      case 'items':
        out.items = Array.isArray(value) ? toOpenApiSchema(value[0]) : toOpenApiSchema(value);
        break;
      case 'properties':
        if (isRecord(value)) out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toOpenApiSchema(v)]));
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof value === 'boolean' ? value : toOpenApiSchema(value);
        break;
      case 'allOf':
      case 'oneOf':
      case 'anyOf':
        if (Array.isArray(value)) out[key] = value.map(toOpenApiSchema);
        break;
      case 'not':
        out.not = toOpenApiSchema(value);
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof value === 'number') {
          out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
          out[key] = true;
        } else if (typeof value === 'boolean') out[key] = value;
        break;
      case 'required':
        if (Array.isArray(value) && value.length > 0) out.required = value;
        break;
      default:
        out[key] = value;
    }
  }
  if ('const' in input) out.enum = [input.const];
  if (out.items !== undefined && out.type === undefined) out.type = 'array';
  return out;
}
