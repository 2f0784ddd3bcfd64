#!/usr/bin/env node
// Writes docs/descriptor.md from schemas/project.schema.json: every key of the descriptor with its type,
// default and description (the schema is the source; this file only renders it). `--check` exits 1 when
// docs/descriptor.md differs from what the schema gives (used by tests and CI).
import { readFileSync, writeFileSync } from 'node:fs';

const schemaUrl = new URL('../schemas/project.schema.json', import.meta.url);
const target = new URL('../docs/descriptor.md', import.meta.url);

/** Named `$defs` that are value formats, shown as a type name rather than expanded. */
const FORMATS = new Set(['duration', 'size', 'percentage', 'port']);

const cell = (text) => String(text ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

export function renderDescriptorDoc(schema) {
  const defs = schema.$defs ?? {};
  const refName = (s) => (typeof s?.$ref === 'string' ? s.$ref.replace('#/$defs/', '') : undefined);
  /** Follows `$ref` and single-element `allOf: [{ $ref }]`, keeping the outer description and default. */
  const resolve = (s) => {
    if (s === undefined || s === true || s === false) return s;
    const ref = refName(s) ?? (Array.isArray(s.allOf) && s.allOf.length === 1 ? refName(s.allOf[0]) : undefined);
    if (ref === undefined || FORMATS.has(ref)) return s;
    const { $ref: _r, allOf: _a, ...outer } = s;
    return { ...defs[ref], ...outer, description: outer.description ?? defs[ref]?.description, 'x-def': ref };
  };
  /** ` (kind: bus)` for a variant told apart by a constant property, else the empty string. */
  const discriminator = (s) => {
    const entry = Object.entries(s?.properties ?? {}).find(([, p]) => p && p.const !== undefined);
    return entry === undefined ? '' : ` (${entry[0]}: ${entry[1].const})`;
  };
  const typeOf = (raw) => {
    if (raw === true || raw === undefined) return 'any';
    if (raw === false) return 'not allowed';
    const ref = refName(raw) ?? (Array.isArray(raw.allOf) && raw.allOf.length === 1 ? refName(raw.allOf[0]) : undefined);
    if (ref !== undefined && FORMATS.has(ref)) return ref;
    const s = resolve(raw);
    if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
    if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${v}\``).join(' | ');
    const variants = s.oneOf ?? s.anyOf;
    if (Array.isArray(variants)) return variants.map((v) => `${typeOf(v)}${discriminator(resolve(v))}`).join(' or ');
    const types = Array.isArray(s.type) ? s.type : s.type === undefined ? (s.properties === undefined ? [] : ['object']) : [s.type];
    const name = (t) => {
      if (t === 'array') return `list of ${typeOf(s.items)}`;
      if (t !== 'object') return t;
      const values = s.additionalProperties;
      return values && typeof values === 'object' && s.properties === undefined ? `map of name to ${typeOf(values)}` : 'mapping';
    };
    return types.length === 0 ? 'any' : types.map(name).join(' or ');
  };
  const lines = [
    '# Descriptor reference (`project.yaml`)',
    '',
    cell(schema.description),
    '',
    'Editors complete and check descriptors that start with',
    '`# yaml-language-server: $schema=<path to>/schemas/project.schema.json`; the package also exports the',
    'schema as `mia-run/schema.json`, and `mia-run schema` prints it. `mia-run validate <file>` checks a',
    'descriptor (exit 0 valid, 1 invalid).',
    '',
    'This page is generated from `schemas/project.schema.json` by `npm run docs`; do not edit it by hand.',
    '',
  ];
  const seen = new Set();
  /** Renders the table of one object schema at `label`, then its nested objects. */
  const section = (label, raw, depth, chain) => {
    const s = resolve(raw);
    if (s === undefined || typeof s !== 'object') return;
    // A recursive definition (an expression made of expressions) is documented once, where it first appears.
    if (s['x-def'] !== undefined && chain.includes(s['x-def'])) return;
    if (depth > 12) return;
    const nextChain = s['x-def'] === undefined ? chain : [...chain, s['x-def']];
    const variants = s.oneOf ?? s.anyOf;
    if (Array.isArray(variants) && s.properties === undefined) {
      variants.forEach((v, i) => section(`${label} (${discriminator(resolve(v)).slice(2, -1) || `form ${i + 1}`})`, v, depth, nextChain));
      return;
    }
    // `if / then / else` picks a shape by a constant property: each shape gets its own table.
    if (s.if !== undefined && (s.then !== undefined || s.else !== undefined)) {
      const condition = discriminator(s.if).slice(2, -1);
      if (s.then !== undefined) section(`${label} (${condition || 'when the condition holds'})`, s.then, depth, nextChain);
      if (s.else !== undefined) section(`${label} (${condition ? `otherwise` : 'else'})`, s.else, depth, nextChain);
      if (s.properties === undefined) return;
    }
    if (s.properties === undefined || seen.has(label)) return;
    seen.add(label);
    lines.push(`${'#'.repeat(Math.min(depth, 6))} ${label === '' ? 'Top level' : `\`${label}\``}`, '');
    if (s.description && label !== '') lines.push(cell(s.description), '');
    const required = new Set(s.required ?? []);
    lines.push('| Key | Type | Default | Description |', '| --- | --- | --- | --- |');
    for (const [key, prop] of Object.entries(s.properties)) {
      const p = resolve(prop) ?? {};
      const dflt = prop.default ?? p.default;
      const req = required.has(key) ? ' (required)' : '';
      lines.push(`| \`${key}\`${req} | ${cell(typeOf(prop))} | ${dflt === undefined ? '' : `\`${cell(JSON.stringify(dflt))}\``} | ${cell(prop.description ?? p.description)} |`);
    }
    lines.push('');
    for (const [key, prop] of Object.entries(s.properties)) {
      const p = resolve(prop);
      if (p === undefined || typeof p !== 'object') continue;
      const child = label === '' ? key : `${label}.${key}`;
      const types = Array.isArray(p.type) ? p.type : [p.type];
      if (types.includes('array')) section(`${child}[]`, p.items, depth + 1, nextChain);
      else if (p.properties !== undefined || p.oneOf !== undefined || p.anyOf !== undefined) section(child, p, depth + 1, nextChain);
      else if (p.additionalProperties && typeof p.additionalProperties === 'object') section(`${child}.<name>`, p.additionalProperties, depth + 1, nextChain);
    }
  };
  section('', schema, 2, []);
  const defLines = [];
  for (const name of FORMATS) {
    if (defs[name]) defLines.push(`- **${name}**: ${cell(defs[name].description)}`);
  }
  if (defLines.length > 0) lines.push('## Value formats', '', ...defLines, '');
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = renderDescriptorDoc(JSON.parse(readFileSync(schemaUrl, 'utf8')));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // a missing file is out of date too
    }
    if (current !== text) {
      console.error('docs/descriptor.md is out of date: run npm run docs');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
  }
}
