import type { Node } from 'libpg-query';
import { splitStatements } from '../history/split.js';

/**
 * The one place that knows libpg-query (PostgreSQL's own parser, compiled to WebAssembly). It is
 * loaded only here, and this module only by the lint runner, which commands load on demand: `--help`,
 * `status` and deploys to unprotected environments never pay for it.
 *
 * The package's own `parseSync` moves every string in and out of WebAssembly memory with JavaScript
 * byte loops (emscripten's stringToUTF8 / UTF8ToString, which scans for the terminating NUL in JS); in a
 * process too short for those loops to get optimized they cost more than the parse itself (~40 ms of a
 * 1000-file lint). So this wrapper instantiates the package's emscripten module itself and calls the
 * same C entry point (`wasm_parse_query_raw`, the one `parseSync` calls), with the platform's
 * TextEncoder, TypedArray.indexOf and TextDecoder for the copying. Same JSON, same errors.
 */
export interface Parser {
  /** Parses SQL (one or more statements); throws a `SqlError` (with `sqlDetails.cursorPosition`) on a syntax error. */
  parse(sql: string): { stmts?: Array<{ stmt?: Node; stmt_location?: number; stmt_len?: number }> };
}

/** The parts of libpg-query's emscripten module this wrapper uses (see wasm/index.cjs in the package). */
interface PgQueryModule {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(ptr: number): void;
  _wasm_parse_query_raw(ptr: number): number;
  _wasm_free_parse_result(ptr: number): void;
  getValue(ptr: number, type: 'i32'): number;
  UTF8ToString(ptr: number): string;
}

/** The package's error type, with the fields its `parseSync` gives it. */
export class SqlError extends Error {
  constructor(
    message: string,
    readonly sqlDetails: { message: string; cursorPosition: number; fileName?: string; functionName?: string; lineNumber?: number },
  ) {
    super(message);
    this.name = 'SqlError';
  }
}

let parser: Promise<Parser> | undefined;

/**
 * Loads the parser once per process. The first call starts reading and compiling the WebAssembly (on
 * V8's background threads), so a caller that starts it early — `stagedb lint` does, before it loads
 * the config and reads the migration files — gets that work done while its own thread is busy.
 */
export function loadParser(): Promise<Parser> {
  parser ??= load();
  return parser;
}

async function load(): Promise<Parser> {
  // The CLI's lint and deploy-gate paths compile this module with V8's baseline tier only
  // (src/commands/wasm-tier.ts, before this runs); the library leaves V8's flags to its caller.
  // require, not import: the package is CommonJS (see loadPg in src/pg/connect.ts). Its emscripten
  // factory, not its index: the index would instantiate a second copy of the module at require time.
  const { createRequire } = await import('node:module');
  const factory = createRequire(import.meta.url)('libpg-query/wasm/libpg-query.js') as () => Promise<PgQueryModule>;
  const m = await factory();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  // One input buffer for every parse, grown when a text needs more: a call from JavaScript into
  // WebAssembly goes through V8's generic wrapper in a process this short, and a malloc and a free per
  // file were half the calls (~3 ms of an 800-file lint). WebAssembly memory never shrinks anyway.
  let input = 0;
  let capacity = 0;
  return {
    parse(sql) {
      // Encoded straight into WebAssembly memory (at most 3 bytes per UTF-16 unit): no buffer per file
      // for the garbage collector to account for.
      const room = sql.length * 3 + 1;
      if (room > capacity) {
        if (input) m._free(input);
        const size = Math.max(room, 64 * 1024);
        input = m._malloc(size);
        capacity = input ? size : 0;
        if (!input) throw new Error('libpg-query: out of memory');
      }
      let result = 0;
      try {
        const { written } = encoder.encodeInto(sql, m.HEAPU8.subarray(input, input + room - 1));
        m.HEAPU8[input + written] = 0;
        result = m._wasm_parse_query_raw(input);
        if (!result) throw new Error('libpg-query: out of memory');
        // struct PgQueryParseResult { char *parse_tree; char *stderr_buffer; PgQueryError *error; }
        const tree = m.getValue(result, 'i32');
        const error = m.getValue(result + 8, 'i32');
        if (error) {
          // struct PgQueryError { char *message; char *funcname; char *filename; int lineno; int cursorpos; … }
          const text = (at: number) => (at ? m.UTF8ToString(at) : undefined);
          const message = text(m.getValue(error, 'i32')) ?? 'Unknown error';
          const lineno = m.getValue(error + 12, 'i32');
          const cursor = m.getValue(error + 16, 'i32');
          throw new SqlError(message, {
            message,
            cursorPosition: cursor > 0 ? cursor - 1 : 0,
            fileName: text(m.getValue(error + 8, 'i32')),
            functionName: text(m.getValue(error + 4, 'i32')),
            lineNumber: lineno > 0 ? lineno : undefined,
          });
        }
        if (!tree) throw new Error('libpg-query: no parse tree');
        // The heap may have grown during the parse: read the current view.
        const heap = m.HEAPU8;
        return JSON.parse(decoder.decode(heap.subarray(tree, heap.indexOf(0, tree)))) as ReturnType<Parser['parse']>;
      } finally {
        if (result) m._wasm_free_parse_result(result);
      }
    },
  };
}

/** A statement as the parser found it, positioned in characters. */
export interface ParsedStatement {
  node: Node;
  kind: string;
  text: string;
  /** Character offsets in the file: first token, end of the statement (before the `;`). */
  start: number;
  end: number;
  /** Byte offset in the file of the string the parser saw: node `location`s are relative to it. */
  byteBase: number;
}

export interface ParseProblem {
  message: string;
  /** Character offset in the file. */
  offset: number;
  text: string;
}

export interface ParsedFile {
  statements: ParsedStatement[];
  problems: ParseProblem[];
  /** Converts a byte offset in the file to a character (UTF-16 index) offset. */
  charAt(byte: number): number;
}

/**
 * Parses a whole file in one call (the fast path). When the file has a syntax error, it falls back to
 * stagedb's own statement splitter and parses statement by statement, so one bad statement (or a psql
 * meta-command) is reported at its own line and does not hide the hazards in the others.
 */
export function parseFile(p: Parser, sql: string): ParsedFile {
  const charAt = byteToChar(sql);
  const statements: ParsedStatement[] = [];
  const problems: ParseProblem[] = [];
  try {
    collect(p.parse(sql).stmts ?? [], sql, 0, sql.length, charAt, statements);
    return { statements, problems, charAt };
  } catch (e) {
    if (!isSqlError(e)) throw e;
  }
  const byteOf = charToByte(sql);
  for (const piece of splitStatements(sql)) {
    const base = byteOf(piece.start);
    try {
      // With its semicolon back (on a line of its own, after any trailing comment), so a statement cut
      // short reads as PostgreSQL would report it: `at or near ";"`, not `at end of input`.
      const stmts = p.parse(`${piece.text}\n;`).stmts ?? [];
      collect(stmts, sql, base, piece.start + piece.text.length, charAt, statements);
    } catch (e) {
      if (!isSqlError(e)) throw e;
      const cursor = (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0;
      problems.push({ message: (e as Error).message, offset: charAt(base + Math.min(cursor, Buffer.byteLength(piece.text))), text: piece.text });
    }
  }
  return { statements, problems, charAt };
}

function isSqlError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'SqlError' || 'sqlDetails' in e);
}

function collect(
  stmts: Array<{ stmt?: Node; stmt_location?: number; stmt_len?: number }>,
  sql: string,
  byteBase: number,
  limit: number,
  charAt: (b: number) => number,
  out: ParsedStatement[],
): void {
  for (const raw of stmts) {
    if (!raw.stmt) continue;
    const loc = byteBase + (raw.stmt_location ?? 0);
    const start = skipSpaceAndComments(sql, charAt(loc));
    // stmt_len 0: the last statement, without a semicolon, runs to the end of the parsed string.
    let end = raw.stmt_len ? Math.min(charAt(loc + raw.stmt_len), limit) : limit;
    while (end > start && /\s/.test(sql[end - 1]!)) end--;
    const kind = firstKey(raw.stmt);
    out.push({ node: raw.stmt, kind, text: sql.slice(start, end), start, end, byteBase });
  }
}

function firstKey(o: object): string {
  for (const k in o) return k;
  return '';
}

/** Skips whitespace, `-- …` and `/* … *\/` comments (PostgreSQL 18 already points at the first token; older parsers did not). */
export function skipSpaceAndComments(sql: string, i: number): number {
  const n = sql.length;
  for (;;) {
    while (i < n && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith('--', i)) {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (sql.startsWith('/*', i)) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.startsWith('/*', i)) (depth++, (i += 2));
        else if (sql.startsWith('*/', i)) (depth--, (i += 2));
        else i++;
      }
    } else return i;
  }
}

/** Byte offset (UTF-8) → JS string index. The identity for ASCII files, which Prisma's almost always are. */
export function byteToChar(text: string): (byte: number) => number {
  if (isAscii(text)) return (b) => Math.min(b, text.length);
  const total = Buffer.byteLength(text);
  const map = new Int32Array(total + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    for (let k = 0; k < n; k++) map[b + k] = i;
    b += n;
    if (c > 0xffff) i++;
  }
  map[total] = text.length;
  return (byte) => map[Math.max(0, Math.min(byte, total))]!;
}

/** JS string index → byte offset (UTF-8). */
export function charToByte(text: string): (char: number) => number {
  if (isAscii(text)) return (c) => c;
  return (c) => Buffer.byteLength(text.slice(0, c));
}

/** Native, not a loop over the characters: lint runs without optimized JavaScript (see src/commands/lint.ts). */
function isAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') === text.length;
}

const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

/** 1-based line and column (in characters: code points) of a character offset. */
export function position(text: string, lineStarts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  const from = lineStarts[lo]!;
  let column = offset - from + 1;
  // A native scan first: almost no line holds a character outside the BMP.
  if (offset > from && HIGH_SURROGATE.test(text.slice(from, offset))) {
    for (let i = from; i < offset; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) column--;
    }
  }
  return { line: lo + 1, column };
}

export function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
