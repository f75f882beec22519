/**
 * The one shell-quoting helper. Every fix line that puts a name, path or URL into a command for the user
 * to paste (`stagedb migrate resolve --rolled-back <folder>`, `createdb <name>`, `rm -rf <dir>`) passes
 * it through `shellQuote`: a migration folder named `x$(curl …|sh)` must paste as that name, not run.
 *
 * A value of only characters no POSIX shell treats specially stays as it is, so ordinary fix lines read
 * as before; anything else is single-quoted, where nothing but `'` is special (written `'\''`).
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
