import type { AlterEnumStmt, CreateStmt, DropStmt, IndexStmt } from 'libpg-query';
import { held, tableLocks } from '../locks.js';
import { as, ident } from '../sql.js';
import type { Rule, Statement } from '../types.js';
import { alterTable } from './util.js';

/**
 * What the statement misses to be safe to run again, and the statement with it, or undefined when it
 * already is (or has no IF [NOT] EXISTS form: ADD CONSTRAINT, CREATE TYPE, RENAME — not reported).
 */
function missing(s: Statement): { what: string; fix: string } | undefined {
  const t = s.text;
  const n = s.node as Record<string, { if_not_exists?: boolean; missing_ok?: boolean }>;
  const body = n[s.kind];
  switch (s.kind) {
    case 'CreateStmt': {
      if (as<CreateStmt>(s.node, 'CreateStmt')!.if_not_exists) return undefined;
      return { what: 'CREATE TABLE without IF NOT EXISTS', fix: t.replace(/^(CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE)\s+/i, '$1 IF NOT EXISTS ') };
    }
    case 'IndexStmt': {
      const i = as<IndexStmt>(s.node, 'IndexStmt')!;
      if (i.if_not_exists || !i.idxname) return undefined;
      if (i.concurrent) {
        // A failed or cancelled CONCURRENTLY build leaves an invalid index behind: IF NOT EXISTS would keep it.
        return {
          what: 'CREATE INDEX CONCURRENTLY that fails if run again',
          fix: `-- drop a leftover (an invalid index from a failed build, or the one this statement made) first:\nDROP INDEX CONCURRENTLY IF EXISTS ${i.relation?.schemaname ? `${ident(i.relation.schemaname)}.` : ''}${ident(i.idxname)};\n${t}`,
        };
      }
      return { what: 'CREATE INDEX without IF NOT EXISTS', fix: t.replace(/^(CREATE\s+(?:UNIQUE\s+)?INDEX)\s+/i, '$1 IF NOT EXISTS ') };
    }
    case 'DropStmt': {
      if (as<DropStmt>(s.node, 'DropStmt')!.missing_ok) return undefined;
      return { what: 'DROP without IF EXISTS', fix: t.replace(/^(DROP\s+(?:MATERIALIZED\s+VIEW|FOREIGN\s+TABLE|TEXT\s+SEARCH\s+\w+|\w+)(?:\s+CONCURRENTLY)?)\s+/i, '$1 IF EXISTS ') };
    }
    case 'AlterEnumStmt': {
      const e = as<AlterEnumStmt>(s.node, 'AlterEnumStmt')!;
      if (e.newVal === undefined || e.skipIfNewValExists) return undefined;
      return { what: 'ADD VALUE without IF NOT EXISTS', fix: t.replace(/\bADD\s+VALUE\s+/i, 'ADD VALUE IF NOT EXISTS ') };
    }
    case 'CreateSeqStmt':
    case 'CreateSchemaStmt':
    case 'CreateExtensionStmt': {
      if (body?.if_not_exists) return undefined;
      const what = s.kind === 'CreateSeqStmt' ? 'SEQUENCE' : s.kind === 'CreateSchemaStmt' ? 'SCHEMA' : 'EXTENSION';
      return { what: `CREATE ${what} without IF NOT EXISTS`, fix: t.replace(/^(CREATE\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?(?:SEQUENCE|SCHEMA|EXTENSION))\s+/i, '$1 IF NOT EXISTS ') };
    }
    case 'AlterTableStmt': {
      const a = alterTable(s);
      if (!a) return undefined;
      const bare = a.cmds.filter((c) => !c.missing_ok && (c.subtype === 'AT_AddColumn' || c.subtype === 'AT_DropColumn' || c.subtype === 'AT_DropConstraint'));
      if (bare.length === 0) return undefined;
      const fix = t
        .replace(/\bADD\s+COLUMN\s+(?!IF\s)/gi, 'ADD COLUMN IF NOT EXISTS ')
        .replace(/\bDROP\s+COLUMN\s+(?!IF\s)/gi, 'DROP COLUMN IF EXISTS ')
        .replace(/\bDROP\s+CONSTRAINT\s+(?!IF\s)/gi, 'DROP CONSTRAINT IF EXISTS ');
      const kinds = [...new Set(bare.map((c) => (c.subtype === 'AT_AddColumn' ? 'ADD COLUMN' : c.subtype === 'AT_DropColumn' ? 'DROP COLUMN' : 'DROP CONSTRAINT')))];
      return { what: `${kinds.join(', ')} without IF [NOT] EXISTS`, fix: fix === t ? `-- write each ${kinds.join(' / ')} with IF [NOT] EXISTS` : fix };
    }
  }
  return undefined;
}

/**
 * R30: a statement that commits on its own before the rest of the file runs — stagedb runs a file
 * with CONCURRENTLY (or VACUUM, …) statement by statement — and fails when it runs again. When a later
 * statement fails, this one stays committed; the file is fixed and deployed again from its first
 * statement, and this one then fails with "already exists" (or "does not exist"). Only statements
 * that have an IF [NOT] EXISTS form are reported. Files that run as one transaction (Prisma's, and
 * everything `prisma migrate deploy` runs) never apply partly, so they are never reported.
 */
const rule: Rule = {
  code: 'SDB028',
  name: 'not-rerunnable',
  summary: 'a statement that commits before the rest of its file and fails when the file runs again (no IF [NOT] EXISTS)',
  defaultSeverity: 'warning',
  kinds: ['CreateStmt', 'IndexStmt', 'DropStmt', 'AlterTableStmt', 'AlterEnumStmt', 'CreateSeqStmt', 'CreateSchemaStmt', 'CreateExtensionStmt'],
  subtypes: ['AT_AddColumn', 'AT_DropColumn', 'AT_DropConstraint'],
  check(s, ctx) {
    if (s.tx !== null || s.index >= ctx.statements.length - 1) return;
    const m = missing(s);
    if (!m) return;
    const lock = tableLocks(s, ctx)[0];
    const again = s.kind === 'DropStmt' || /DROP/.test(m.what) ? 'does not exist' : 'already exists';
    return {
      message: `${m.what}: it commits on its own, before the rest of the file runs`,
      ...(lock ? held([{ on: lock.rel, mode: lock.mode }]) : {}),
      why: `${ctx.model.reason.replace(/^stagedb deploy: /, 'stagedb deploys this file ')}. If a later statement of this file fails, this one stays applied; once the file is fixed, deploying it again runs it again and it fails with "${again}", so the migration can only be finished by hand.`,
      fix: `${m.fix};`,
    };
  },
};

export default rule;
