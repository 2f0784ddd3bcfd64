/**
 * Roles select which capabilities run in this process (`--role gateway,crud`), so one descriptor scales out
 * as many processes (ARCHITECTURE "Scaling past one machine"). Backends and status routes run in every role.
 */
import type { Diagnostic } from '../config/types.js';
import { ROLES, type Role } from '../ports/capability-context.js';

export { ROLES, type Role };

export interface RolesResult {
  readonly roles?: readonly Role[];
  readonly diagnostics: readonly Diagnostic[];
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function closestRole(name: string): Role | undefined {
  const ranked = ROLES.map((role) => ({ role, d: distance(name, role) })).sort((x, y) => x.d - y.d)[0];
  // Beyond half the word, a "suggestion" is noise.
  return ranked !== undefined && ranked.d <= Math.max(2, Math.floor(name.length / 2)) ? ranked.role : undefined;
}

/**
 * Parses `--role a,b`: comma-separated, case-insensitive, blanks ignored, duplicates merged, returned in the
 * canonical order of `ROLES`. Absent or empty means every role. Unknown names are `MR_CONFIG_UNKNOWN_ROLE`
 * diagnostics (no file position) with the closest valid role as a hint.
 *
 * @example parseRoles('crud,gateway').roles // ['gateway', 'crud']
 */
export function parseRoles(value: string | undefined): RolesResult {
  if (value === undefined || value.trim() === '') return { roles: ROLES, diagnostics: [] };
  const wanted = new Set<Role>();
  const diagnostics: Diagnostic[] = [];
  for (const raw of value.split(',')) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    if ((ROLES as readonly string[]).includes(name)) {
      wanted.add(name as Role);
      continue;
    }
    const suggestion = closestRole(name);
    diagnostics.push({
      code: 'MR_CONFIG_UNKNOWN_ROLE',
      severity: 'error',
      path: '--role',
      message: `"${raw.trim()}" is not a role${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`}`,
      hint: `roles are: ${ROLES.join(', ')}`,
    });
  }
  if (diagnostics.length > 0) return { diagnostics };
  if (wanted.size === 0) return { roles: ROLES, diagnostics: [] };
  return { roles: ROLES.filter((r) => wanted.has(r)), diagnostics: [] };
}
