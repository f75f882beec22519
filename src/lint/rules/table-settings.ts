import type { CreateStmt, Node } from 'libpg-query';
import { alterCmdLock, held } from '../locks.js';
import { as, ident, relOf, relSql, strings } from '../sql.js';
import type { Hit, Rel, Rule } from '../types.js';
import { alterSql, alterTable } from './util.js';

const FALSE = new Set(['false', 'off', 'no', '0', 'f', 'n']);

/** The value of a storage parameter as written: `false`, `off`, `0`. */
function optionValue(arg: Node | undefined): string | undefined {
  const s = as<{ sval?: string }>(arg, 'String')?.sval;
  if (s !== undefined) return s.toLowerCase();
  const t = strings(as<{ names?: Node[] }>(arg, 'TypeName')?.names);
  if (t.length) return t[t.length - 1]!.toLowerCase();
  const i = as<{ ival?: number }>(arg, 'Integer');
  if (i) return String(i.ival ?? 0);
  const c = as<{ ival?: { ival?: number }; boolval?: { boolval?: boolean }; sval?: { sval?: string } }>(arg, 'A_Const');
  if (c?.boolval) return String(c.boolval.boolval ?? false);
  if (c?.sval) return c.sval.sval?.toLowerCase();
  if (c?.ival) return String(c.ival.ival ?? 0);
  return undefined;
}

/** `autovacuum_enabled = false` (or `toast.autovacuum_enabled`) among storage parameters. */
function autovacuumOff(options: Node[] | undefined): string | undefined {
  for (const o of options ?? []) {
    const d = as<{ defname?: string; defnamespace?: string; arg?: Node }>(o, 'DefElem');
    if (d?.defname !== 'autovacuum_enabled') continue;
    const v = optionValue(d.arg);
    if (v !== undefined && FALSE.has(v)) return d.defnamespace ? `${d.defnamespace}.autovacuum_enabled` : 'autovacuum_enabled';
  }
  return undefined;
}

const autovacuumHit = (rel: Rel, param: string, lock: ReturnType<typeof held>, at?: number): Hit => ({
  at,
  message: `turns ${param} off for ${relSql(rel)}`,
  ...lock,
  why: `Dead rows in ${relSql(rel)} are no longer cleaned up and its statistics no longer refreshed: the table and its indexes bloat and plans go stale; only the emergency anti-wraparound vacuum still runs, late and unthrottled.`,
  fix: `-- keep autovacuum, and make it keep up instead:\n${alterSql(rel)} RESET (${param});\n${alterSql(rel)} SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_cost_limit = 1000);`,
  table: rel,
});

/**
 * R40: table settings that hurt replication or vacuum: `REPLICA IDENTITY FULL` (every UPDATE and
 * DELETE logs the whole old row), `REPLICA IDENTITY NOTHING` (UPDATE and DELETE fail on a published
 * table), and `autovacuum_enabled = false` (bloat). These are about what the table does afterwards,
 * not about a lock, so a table the same files create is reported too. Prisma never writes them.
 */
const rule: Rule = {
  code: 'SDB032',
  name: 'table-settings',
  summary: 'REPLICA IDENTITY FULL or NOTHING, or autovacuum turned off: replication and bloat hazards',
  defaultSeverity: 'warning',
  kinds: ['AlterTableStmt', 'CreateStmt'],
  subtypes: ['AT_ReplicaIdentity', 'AT_SetRelOptions'],
  check(s, ctx) {
    if (s.kind === 'CreateStmt') {
      const c = as<CreateStmt>(s.node, 'CreateStmt')!;
      const rel = relOf(c.relation);
      const param = autovacuumOff(c.options);
      return rel && param ? autovacuumHit(rel, param, held([{ on: rel, mode: 'ACCESS EXCLUSIVE' }], { how: 'on a new table: nothing waits for it' })) : undefined;
    }
    const a = alterTable(s);
    if (!a) return;
    const hits: Hit[] = [];
    const t = relSql(a.rel);
    for (const cmd of a.cmds) {
      const lock = held([{ on: a.rel, mode: alterCmdLock(cmd) }], { how: 'briefly' });
      if (cmd.subtype === 'AT_SetRelOptions') {
        const param = autovacuumOff(as<{ items?: Node[] }>(cmd.def, 'List')?.items);
        if (param) hits.push(autovacuumHit(a.rel, param, lock));
        continue;
      }
      if (cmd.subtype !== 'AT_ReplicaIdentity') continue;
      const type = as<{ identity_type?: string }>(cmd.def, 'ReplicaIdentityStmt')?.identity_type;
      if (type !== 'f' && type !== 'n') continue;
      const fix = `-- the primary key is the default replica identity; without one, a unique index on NOT NULL columns:\n${alterSql(a.rel)} REPLICA IDENTITY DEFAULT;\n-- or: ${alterSql(a.rel)} REPLICA IDENTITY USING INDEX ${ident(`${a.rel.name}_key`)};`;
      hits.push(
        type === 'f'
          ? {
              message: `sets REPLICA IDENTITY FULL on ${t}`,
              ...lock,
              why: `Every UPDATE and DELETE on ${t} then writes the whole old row to the WAL for logical replication and change-data capture: WAL volume grows with the row width, and a subscriber without a usable index scans its copy of the table for every change.`,
              fix,
              table: a.rel,
            }
          : {
              message: `sets REPLICA IDENTITY NOTHING on ${t}`,
              ...lock,
              why: `If ${t} is in a publication that publishes updates or deletes, every UPDATE and DELETE on it fails ("cannot update table … because it does not have a replica identity and publishes updates").`,
              fix,
              table: a.rel,
            },
      );
    }
    return hits;
  },
};

export default rule;
