/**
 * A small lexer that splits a migration file into statements without a full SQL parser, so that
 * `deploy` and `status` stay light (the real parser, libpg-query, is loaded only by `lint`). It
 * understands what can hide a semicolon: '…' and E'…' strings, "…" identifiers, $tag$…$tag$
 * bodies, -- line comments, nested block comments and `BEGIN ATOMIC … END` routine bodies.
 */
export interface SqlStatement {
  /** The statement text, without the trailing semicolon. */
  text: string;
  /** Offset of the first non-space, non-comment character in the file. */
  start: number;
  /** The statement with comments removed and whitespace collapsed, upper-cased: for classification. */
  head: string;
}

export function splitStatements(sql: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let i = 0;
  let firstToken = -1;
  let head = '';
  // psql's rule for SQL-standard bodies (PostgreSQL 14+): inside CREATE [OR REPLACE] FUNCTION/PROCEDURE,
  // BEGIN and CASE open a block that END closes, and a semicolon inside `BEGIN ATOMIC … END` does not
  // end the statement. Without it the body was split and its END read as transaction control.
  let words: string[] = [];
  let depth = 0;
  // Like psql, a semicolon inside parentheses (a multi-action CREATE RULE) does not end a statement.
  let parens = 0;
  const n = sql.length;
  const push = (end: number) => {
    if (firstToken >= 0) {
      out.push({ text: sql.slice(firstToken, end).trimEnd(), start: firstToken, head: head.replace(/\s+/g, ' ').trim().toUpperCase() });
    }
    firstToken = -1;
    head = '';
    words = [];
    depth = 0;
    parens = 0;
  };
  const isRoutine = () =>
    words[0] === 'create' &&
    (/^(function|procedure)$/.test(words[1] ?? '') || (words[1] === 'or' && words[2] === 'replace' && /^(function|procedure)$/.test(words[3] ?? '')));
  const mark = (from: number, to: number, text?: string) => {
    if (firstToken < 0) firstToken = from;
    if (head.length < 400) head += text ?? sql.slice(from, to);
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
      head += ' ';
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      head += ' ';
      continue;
    }
    if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && (i < 2 || !/[\w$]/.test(sql[i - 2]!));
      const s = i;
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') {
          i += 2;
          continue;
        }
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      mark(s, i, "''");
      continue;
    }
    if (c === '"') {
      const s = i;
      i++;
      while (i < n) {
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      mark(s, i);
      continue;
    }
    if (c === '$' && (i === 0 || !/[\w$]/.test(sql[i - 1]!))) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        const s = i;
        i = end < 0 ? n : end + tag.length;
        mark(s, i, '$$');
        continue;
      }
    }
    if (c === '(') parens++;
    else if (c === ')' && parens > 0) parens--;
    if (c === ';' && depth === 0 && parens === 0) {
      push(i);
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c) && (i === 0 || !/[\w$]/.test(sql[i - 1]!))) {
      const s = i;
      while (i < n && /[\w$]/.test(sql[i]!)) i++;
      const word = sql.slice(s, i).toLowerCase();
      if (words.length < 4) words.push(word);
      if ((word === 'begin' || word === 'case') && isRoutine()) depth++;
      else if (word === 'end' && depth > 0) depth--;
      mark(s, i);
      continue;
    }
    if (/\s/.test(c)) {
      if (firstToken >= 0) head += ' ';
      i++;
      continue;
    }
    mark(i, i + 1);
    i++;
  }
  push(n);
  return out;
}

/** 1-based line and column of an offset in a text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}
