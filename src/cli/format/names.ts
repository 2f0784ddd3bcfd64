/** Output formats of diagnostics (`--format`). */
export const FORMATS = ['text', 'json', 'github'] as const;
export type FormatName = (typeof FORMATS)[number];
