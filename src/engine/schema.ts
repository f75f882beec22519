/**
 * Makes a Prisma schema acceptable to the pinned schema engine (Prisma 7+) without changing what it
 * describes. Pure text work: no engine, no file system.
 *
 * Most projects still carry Prisma 6 schemas, which the engine refuses with P1012:
 *  - `url`, `directUrl` and `shadowDatabaseUrl` in the datasource block ("no longer supported in
 *    schema files"): stagedb reads them to pick the environment's connection (see
 *    config/prisma-project.ts) and hands the engine its connection through the driver adapter, so
 *    the engine never needs them;
 *  - generator `previewFeatures` the engine does not know (`metrics`, `esm`, …).
 *
 * Removed text is replaced by blanks, never deleted: every line keeps its number, so an error the
 * engine reports about the rest of the file points at the user's own line.
 */
import { StagedbError } from '../errors.js';

/** A Prisma schema file as the engine takes it: a path (for messages) and its text. */
export interface SchemaFile {
  path: string;
  content: string;
}

/** One setting taken out of a schema before it went to the engine. */
export type StrippedSetting =
  | {
      kind: 'datasource-property';
      file: string;
      /** 1-based line of the property. */
      line: number;
      property: 'url' | 'directUrl' | 'shadowDatabaseUrl';
      /** The variable in `env("…")`, when the value was one. A literal URL is not kept: it may hold a password. */
      env?: string;
    }
  | {
      kind: 'preview-feature';
      file: string;
      line: number;
      feature: string;
    };

export interface PreparedSchema {
  files: SchemaFile[];
  stripped: StrippedSetting[];
}

const DATASOURCE_PROPERTIES = ['url', 'directUrl', 'shadowDatabaseUrl'] as const;

/**
 * Preview features the pinned engine (8.1.0-2.59be4fda) accepts without a warning: the list its own
 * P1012 message gives ("Expected one of: …"). Every other name is dropped before the schema reaches
 * the engine: removed ones (`metrics`, `esm`) would fail, GA'd ones (`driverAdapters`, `multiSchema`,
 * `queryCompiler`, …) are no-ops, and none of the dropped ones changes what the engine generates.
 * The engine compares names case-insensitively, so this does too. Bump together with the package.
 */
export const ENGINE_PREVIEW_FEATURES: readonly string[] = [
  'fullTextSearchPostgres',
  'nativeDistinct',
  'partialIndexes',
  'postgresqlExtensions',
  'relationJoins',
  'schemaEngineDriverAdapters',
  'shardKeys',
  'strictUndefinedChecks',
  'typedSql',
  'views',
];

const KNOWN = new Set(ENGINE_PREVIEW_FEATURES.map((f) => f.toLowerCase()));

/** A `datasource` block's provider, where it is written. */
export interface DatasourceProvider {
  file: string;
  line: number;
  provider: string | undefined;
}

/** The provider of every `datasource` block in the files (pure text work, like the stripping). */
export function datasourceProviders(files: readonly SchemaFile[]): DatasourceProvider[] {
  const out: DatasourceProvider[] = [];
  for (const f of files) {
    for (const block of topLevelBlocks(f.content)) {
      if (block.keyword !== 'datasource') continue;
      const prop = properties(f.content, block).find((p) => p.key === 'provider');
      const value = prop ? f.content.slice(prop.valueStart, prop.end).trim() : undefined;
      const provider = value === undefined ? undefined : (/^"((?:[^"\\]|\\.)*)"$/.exec(value)?.[1] ?? value);
      out.push({ file: f.path, line: lineOf(f.content, prop?.start ?? block.bodyStart), provider });
    }
  }
  return out;
}

/**
 * The schemas a multiSchema datasource names (`schemas = ["public", "auth"]`), in the order written;
 * undefined when no datasource has a `schemas` property (the URL's `?schema=`, else `public`, is then
 * the only one). Comments are not read: a commented-out `// schemas = [...]` does not count.
 */
export function datasourceSchemas(files: readonly SchemaFile[]): string[] | undefined {
  for (const f of files) {
    for (const block of topLevelBlocks(f.content)) {
      if (block.keyword !== 'datasource') continue;
      const prop = properties(f.content, block).find((p) => p.key === 'schemas');
      if (!prop) continue;
      const value = f.content.slice(prop.valueStart, prop.end);
      const names: string[] = [];
      const re = /"((?:[^"\\]|\\.)*)"/g;
      for (let m = re.exec(value); m; m = re.exec(value)) names.push(m[1]!);
      return [...new Set(names)];
    }
  }
  return undefined;
}

/** Provider names the engine accepts for PostgreSQL. */
const POSTGRES_PROVIDERS = new Set(['postgresql', 'postgres']);

/**
 * Refuses a schema stagedb cannot run: no datasource, or one for another database. The engine itself
 * does not check: it takes the connector from the driver adapter, so a `mysql` schema would be
 * pushed to PostgreSQL as if it said `postgresql`.
 */
export function assertPostgresSchema(files: readonly SchemaFile[]): void {
  const found = datasourceProviders(files);
  const shown = files.map((f) => f.path).join(', ');
  if (found.length === 0) {
    throw new StagedbError('config', 'E_SCHEMA_NO_DATASOURCE', `${shown || 'the Prisma schema'} has no datasource block`, {
      fix: 'add a datasource block to schema.prisma: datasource db { provider = "postgresql" }   (on separate lines)',
    });
  }
  const other = found.find((d) => !d.provider || !POSTGRES_PROVIDERS.has(d.provider));
  if (other) {
    throw new StagedbError('config', 'E_PROVIDER', `${other.file}:${other.line}: the datasource provider is ${other.provider ? `"${other.provider}"` : 'missing'}; stagedb runs PostgreSQL schemas only`, {
      fix: 'set provider = "postgresql" in the datasource block (stagedb and its schema engine work with PostgreSQL only)',
    });
  }
}

/** Strips what the engine refuses from every file. Files without a datasource or generator come back unchanged. */
export function prepareSchemaForEngine(files: readonly SchemaFile[]): PreparedSchema {
  const stripped: StrippedSetting[] = [];
  const out = files.map((f) => ({ path: f.path, content: stripFile(f, stripped) }));
  return { files: out, stripped };
}

interface Block {
  keyword: string;
  /** Offset just after `{` and of the closing `}`. */
  bodyStart: number;
  bodyEnd: number;
}

function stripFile(file: SchemaFile, stripped: StrippedSetting[]): string {
  const text = file.content;
  const edits: Array<{ start: number; end: number; replacement: string }> = [];
  for (const block of topLevelBlocks(text)) {
    if (block.keyword !== 'datasource' && block.keyword !== 'generator') continue;
    for (const prop of properties(text, block)) {
      if (block.keyword === 'datasource' && (DATASOURCE_PROPERTIES as readonly string[]).includes(prop.key)) {
        const value = text.slice(prop.valueStart, prop.end);
        const env = /^env\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\)$/.exec(value.trim())?.[1];
        stripped.push({
          kind: 'datasource-property',
          file: file.path,
          line: lineOf(text, prop.start),
          property: prop.key as (typeof DATASOURCE_PROPERTIES)[number],
          ...(env !== undefined ? { env } : {}),
        });
        edits.push({ start: prop.start, end: prop.end, replacement: blankKeepingLines(text.slice(prop.start, prop.end)) });
      } else if (block.keyword === 'generator' && prop.key === 'previewFeatures') {
        const edit = filterFeatures(text, prop.valueStart, prop.end, file.path, stripped);
        if (edit) edits.push(edit);
      }
    }
  }
  let result = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) result = result.slice(0, e.start) + e.replacement + result.slice(e.end);
  return result;
}

/** Rewrites `[ "a", "b" ]` without the unknown names, keeping the array's line count. */
function filterFeatures(text: string, start: number, end: number, path: string, stripped: StrippedSetting[]) {
  const raw = text.slice(start, end);
  const open = raw.indexOf('[');
  if (open < 0 || !raw.trimEnd().endsWith(']')) return undefined;
  const items: Array<{ name: string; offset: number }> = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(raw); m; m = re.exec(raw)) items.push({ name: m[1]!, offset: start + m.index });
  const kept = items.filter((i) => KNOWN.has(i.name.toLowerCase()));
  if (kept.length === items.length) return undefined;
  for (const i of items) {
    if (!KNOWN.has(i.name.toLowerCase())) stripped.push({ kind: 'preview-feature', file: path, line: lineOf(text, i.offset), feature: i.name });
  }
  const replacement = `${raw.slice(0, open)}[${kept.map((k) => JSON.stringify(k.name)).join(', ')}]${blankKeepingLines(raw)}`;
  return { start, end, replacement };
}

/** Only the line breaks of `s` (CRLF stays CRLF), so the lines after it keep their numbers. */
function blankKeepingLines(s: string): string {
  return s.replace(/[^\r\n]/g, '');
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Skips a comment or string starting at `i`; returns the offset after it, or `i` when there is none. */
function skipTrivia(text: string, i: number): number {
  if (text[i] === '/' && text[i + 1] === '/') {
    const nl = text.indexOf('\n', i);
    return nl < 0 ? text.length : nl;
  }
  if (text[i] === '"') {
    let j = i + 1;
    while (j < text.length && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
    return Math.min(j + 1, text.length);
  }
  return i;
}

/** `datasource db { … }`, `generator client { … }`, `model X { … }`, … at the top level of a file. */
function topLevelBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let i = 0;
  while (i < text.length) {
    const skipped = skipTrivia(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    const head = /^([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/.exec(text.slice(i, i + 200));
    const atLineStart = i === 0 || /\s/.test(text[i - 1]!);
    if (head && atLineStart) {
      const bodyStart = i + head[0].length;
      const bodyEnd = closingBrace(text, bodyStart);
      blocks.push({ keyword: head[1]!, bodyStart, bodyEnd });
      i = bodyEnd + 1;
      continue;
    }
    i++;
  }
  return blocks;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  let i = from;
  while (i < text.length) {
    const skipped = skipTrivia(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
    i++;
  }
  return text.length;
}

interface Property {
  key: string;
  /** Offset of the key, of the value (after `=`), and the end of the value. */
  start: number;
  valueStart: number;
  end: number;
}

/** `key = value` entries of a datasource or generator block. A value is one expression, possibly over several lines. */
function properties(text: string, block: Block): Property[] {
  const out: Property[] = [];
  let i = block.bodyStart;
  while (i < block.bodyEnd) {
    const skipped = skipTrivia(text, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*/.exec(text.slice(i, Math.min(block.bodyEnd, i + 200)));
    if (m && (i === block.bodyStart || /\s/.test(text[i - 1]!))) {
      const valueStart = i + m[0].length;
      const end = valueEnd(text, valueStart, block.bodyEnd);
      out.push({ key: m[1]!, start: i, valueStart, end });
      i = end;
      continue;
    }
    i++;
  }
  return out;
}

/** The end of the expression at `from`: balanced (), [] and strings; a newline at depth 0 ends it. */
function valueEnd(text: string, from: number, limit: number): number {
  let depth = 0;
  let i = from;
  let lastSignificant = from;
  while (i < limit) {
    const c = text[i]!;
    if (c === '"') {
      i = skipTrivia(text, i);
      lastSignificant = i;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      if (depth === 0) break;
      i = skipTrivia(text, i);
      continue;
    }
    if (c === '\n' && depth === 0) break;
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth = Math.max(0, depth - 1);
    i++;
    if (!/\s/.test(c)) lastSignificant = i;
  }
  return lastSignificant;
}
