import type { CrudAclDefinition } from '../../config/sections/gateway.js';
import type { Identity } from '../auth/index.js';

// Header values must stay printable ASCII; JSON escapes keep any value legal.
const escapeNonAscii = (json: string): string => json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The `acl_rows` / `acl_read_columns` / `acl_write_columns` headers an endpoint sends to a CRUD target
 * (gateway.md §2, as Mia's authorization service sets them). `"{userId}"` inside a row filter value is
 * replaced by the caller's user id (JSON-escaped). Prepared once; per request only the replacement runs.
 */
export function createCrudAclHeaders(definition: CrudAclDefinition): (identity: Identity) => Readonly<Record<string, string>> {
  const fixed: Record<string, string> = {};
  if (definition.readColumns) fixed.acl_read_columns = definition.readColumns.join(',');
  if (definition.writeColumns) fixed.acl_write_columns = definition.writeColumns.join(',');
  const rows = definition.rows === undefined ? undefined : escapeNonAscii(JSON.stringify(definition.rows));
  if (rows === undefined || !rows.includes('{userId}')) {
    if (rows !== undefined) fixed.acl_rows = rows;
    return () => fixed;
  }
  return (identity) => {
    const userId = escapeNonAscii(JSON.stringify(identity.userId ?? '').slice(1, -1));
    return { ...fixed, acl_rows: rows.replaceAll('{userId}', userId) };
  };
}
