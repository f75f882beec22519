import type { Client } from 'pg';
import type { Protection } from '../config/define.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { ParsedUrl } from '../config/url.js';
import { StagedbError } from '../errors.js';
import { quoteIdent } from '../pg/quote-ident.js';
import { redact } from '../redact.js';

/**
 * The protection marker: the target database says which environment it is and how strictly it is
 * protected, so a config whose URL points at the wrong database (a development config holding
 * production's URL) is refused before it changes anything.
 *
 * Where it lives, and why there: one row in the table `stagedb.marker`, in the schema of stagedb's
 * own audit trail.
 * - Who can write it: the database owner always can (the owner has CREATE on its database, so it may
 *   create the schema), and so can any role granted CREATE on the database. Until 2026-12 the marker
 *   was a pair of database settings (`ALTER DATABASE … SET stagedb.protection`): since PostgreSQL 15 a
 *   custom setting may be stored only by a superuser (or a role granted SET on the parameter), so on
 *   RDS, whose master user is no superuser, it was never stored, and a wrong URL went unnoticed.
 *   `COMMENT ON DATABASE` was the other candidate that needs no superuser, but only the owner (never
 *   an application role with CREATE) may set it, and it shares a field users write their own text in.
 * - Who can read it: every role (USAGE on the schema and SELECT on the table are granted to PUBLIC
 *   when it is created); the old settings are still read, and the stricter of the two counts.
 * - Prisma never sees it as drift: the schema engine diffs only the datasource's schema (`?schema=`,
 *   default public) or the `schemas` a multi-schema datasource lists, never `stagedb`. For the same
 *   reason `migrate reset` (which drops the environment's schema only) and `push` leave it alone;
 *   should it ever disappear during a run anyway, `settleMarker` writes it back afterwards.
 * - Backups carry it (pg_dump copies the schema), so a restore could bring production's marker into
 *   staging or development: a target that was marked keeps its own schema `stagedb` through a restore
 *   (backup/restore.ts), and `settleMarker`, run after every guarded command, puts back the target's
 *   own marker (or removes a marker the restore brought into an unprotected environment).
 */
export interface Marker {
  /** The strictest protection the database claims (table or old setting). */
  protection?: Protection;
  /** The environment that claim names. */
  environment?: string;
  /** The row in stagedb.marker, when there is one. */
  table?: { protection: Protection; environment: string; setAt?: string; setBy?: string };
  /** The old database settings (stagedb.protection / stagedb.environment), when they exist. */
  setting?: { protection: Protection; environment?: string };
}

export const MARKER_SCHEMA = 'stagedb';
export const MARKER_TABLE = `"${MARKER_SCHEMA}"."marker"`;

const RANK: Record<Protection, number> = { none: 0, guarded: 1, production: 2 };

const isProtection = (p: unknown): p is Protection => p === 'none' || p === 'guarded' || p === 'production';

/** Reads the marker: the row in stagedb.marker and the old database settings; the stricter counts. */
export async function readMarker(client: Client): Promise<Marker> {
  // The catalog, not to_regclass: to_regclass raises an error for a schema the role may not use.
  const r = await client.query<{ p: string | null; e: string | null; has_table: boolean; readable: boolean }>(
    `SELECT current_setting('stagedb.protection', true) AS p, current_setting('stagedb.environment', true) AS e,
            c.oid IS NOT NULL AS has_table,
            CASE WHEN c.oid IS NULL THEN false ELSE has_schema_privilege(c.relnamespace, 'USAGE') AND has_table_privilege(c.oid, 'SELECT') END AS readable
       FROM (SELECT 1) one
       LEFT JOIN pg_class c ON c.relname = 'marker' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1)`,
    [MARKER_SCHEMA],
  );
  const row = r.rows[0]!;
  const marker: Marker = {};
  if (isProtection(row.p) && row.p !== 'none') marker.setting = { protection: row.p, environment: row.e || undefined };
  if (row.has_table) {
    if (!row.readable) {
      const who = (await client.query<{ u: string; d: string }>('SELECT current_user AS u, current_database() AS d')).rows[0]!;
      throw new StagedbError('guard', 'E_MARKER_UNREADABLE', `this database has a protection marker (${MARKER_TABLE}) that role ${who.u} may not read: stagedb cannot tell which environment it is`, {
        fix: `as the owner of ${MARKER_TABLE} (the role that created it, usually the database owner): GRANT USAGE ON SCHEMA ${MARKER_SCHEMA} TO PUBLIC; GRANT SELECT ON ${MARKER_TABLE} TO PUBLIC;  (in database ${who.d})`,
      });
    }
    const t = await client.query<{ protection: string; environment: string; set_at: Date | null; set_by: string | null }>(
      `SELECT protection, environment, set_at, set_by FROM ${MARKER_TABLE} LIMIT 1`,
    );
    const x = t.rows[0];
    if (x && isProtection(x.protection) && x.protection !== 'none') {
      marker.table = { protection: x.protection, environment: x.environment, setAt: x.set_at?.toISOString(), setBy: x.set_by ?? undefined };
    }
  }
  const claims = [marker.table, marker.setting].filter((c): c is NonNullable<typeof c> => c !== undefined);
  const strictest = claims.sort((a, b) => RANK[b.protection] - RANK[a.protection])[0];
  if (strictest) {
    marker.protection = strictest.protection;
    marker.environment = strictest.environment;
  }
  return marker;
}

/**
 * Refuses when the database is marked stricter than the environment that is about to change it, or
 * is marked (guarded or production) as another environment: either way its URL probably points at
 * the wrong database.
 */
export function checkMarker(marker: Marker, env: Pick<ResolvedEnvironment, 'name' | 'protection'>): void {
  if (!marker.protection) return;
  const stricter = RANK[marker.protection] > RANK[env.protection];
  const other = marker.environment !== undefined && marker.environment !== env.name;
  if (!stricter && !other) return;
  if (stricter) {
    throw new StagedbError(
      'guard',
      'E_PROTECTION_MISMATCH',
      `${env.name}: this database is marked "${marker.protection}"${marker.environment ? ` (environment ${marker.environment})` : ''}, but environment ${env.name} has protection "${env.protection}": its URL probably points at the wrong database`,
      {
        fix: marker.environment
          ? `check ${env.name}'s URL; to act on ${marker.environment}, use --env ${marker.environment} (if this database really is ${env.name}'s, see stagedb marker --env ${env.name})`
          : `check ${env.name}'s URL, or set protection: '${marker.protection}' for ${env.name} in the config`,
      },
    );
  }
  throw new StagedbError(
    'guard',
    'E_PROTECTION_MISMATCH',
    `${env.name}: this database is marked as environment ${marker.environment} ("${marker.protection}"), not ${env.name}: its URL probably points at the wrong database`,
    { fix: `check ${env.name}'s URL; to act on ${marker.environment}, use --env ${marker.environment} (if this database now is ${env.name}'s: stagedb marker set --env ${env.name})` },
  );
}

/** The environment a marker is written for; its URL, when known, makes the fix hints exact. */
export type MarkTarget = Pick<ResolvedEnvironment, 'name' | 'protection'> & { directInfo?: Pick<ParsedUrl, 'host' | 'port' | 'database'> };

/** What marking the database found: `stored` when it wrote, else why it did not (a warning for guarded). */
export interface MarkOutcome {
  stored: boolean;
  warning?: string;
}

/**
 * Makes sure a guarded or production-level environment's database carries its marker. Writes only
 * when it does not already (so an application role that may not write it works once the owner has
 * marked the database). A failure to store it is an error for production-level environments (nothing
 * has been changed yet: it runs before the command) and a warning for guarded ones.
 */
export async function ensureMarker(client: Client, env: MarkTarget, current: Marker): Promise<MarkOutcome> {
  if (env.protection === 'none') return { stored: false };
  const t = current.table;
  if (t && t.protection === env.protection && t.environment === env.name) return { stored: false };
  try {
    await writeMarker(client, { protection: env.protection, environment: env.name });
    return { stored: true };
  } catch (e) {
    const err = await unstoredError(client, env, e);
    if (env.protection === 'production') throw err;
    return { stored: false, warning: `${err.message}\n  fix: ${err.fix}` };
  }
}

/**
 * After a guarded command: the database's marker must still be the one it had before (or, for a
 * guarded or production environment, its own). A restore brings the source's schema `stagedb`, and
 * with it the source's marker, into a target that had none; anything else that dropped it is undone
 * too. Returns a warning when it cannot.
 */
export async function settleMarker(client: Client, env: MarkTarget, before: Marker): Promise<string | undefined> {
  let after: Marker;
  try {
    after = await readMarker(client);
  } catch (e) {
    return `${env.name}: could not read the protection marker after the command (${redact((e as Error).message)}): stagedb marker --env ${env.name} shows it`;
  }
  const want = env.protection === 'none' ? before.table : { protection: env.protection, environment: env.name };
  const have = after.table;
  if (have?.protection === want?.protection && have?.environment === want?.environment) return undefined;
  try {
    if (want) await writeMarker(client, want);
    else await deleteMarker(client);
    return undefined;
  } catch (e) {
    const err = await unstoredError(client, env, e, true);
    return `${err.message}\n  fix: ${err.fix}`;
  }
}

/** Writes the marker row (creating schema and table when missing), in one transaction. */
export async function writeMarker(client: Client, m: { protection: Protection; environment: string }): Promise<void> {
  if (m.protection === 'none') return deleteMarker(client);
  await client.query('BEGIN');
  try {
    // Concurrent first deploys would race on CREATE SCHEMA / CREATE TABLE IF NOT EXISTS (a unique
    // violation in the catalog): one at a time.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('stagedb.marker'))`);
    const exists = (await client.query<{ s: boolean; t: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS s,
              EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'marker') AS t`,
      [MARKER_SCHEMA],
    )).rows[0]!;
    // CREATE SCHEMA IF NOT EXISTS checks CREATE on the database even when the schema exists: only when missing.
    if (!exists.s) await client.query(`CREATE SCHEMA ${quoteIdent(MARKER_SCHEMA)}; GRANT USAGE ON SCHEMA ${quoteIdent(MARKER_SCHEMA)} TO PUBLIC`);
    if (!exists.t) {
      await client.query(`CREATE TABLE ${MARKER_TABLE} (
  id          BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
  protection  TEXT NOT NULL CHECK (protection IN ('guarded', 'production')),
  environment TEXT NOT NULL,
  set_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  set_by      TEXT NOT NULL DEFAULT current_user
);
COMMENT ON TABLE ${MARKER_TABLE} IS 'stagedb protection marker: which environment this database is. Change it with stagedb marker, never by hand.';
GRANT SELECT ON ${MARKER_TABLE} TO PUBLIC`);
    }
    await client.query(
      `INSERT INTO ${MARKER_TABLE} (id, protection, environment) VALUES (true, $1, $2)
       ON CONFLICT (id) DO UPDATE SET protection = EXCLUDED.protection, environment = EXCLUDED.environment, set_at = now(), set_by = current_user`,
      [m.protection, m.environment],
    );
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** Removes the marker row (the table stays). */
export async function deleteMarker(client: Client): Promise<void> {
  const has = (await client.query<{ t: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'marker') AS t`,
    [MARKER_SCHEMA],
  )).rows[0]!.t;
  if (has) await client.query(`DELETE FROM ${MARKER_TABLE}`);
}

/**
 * Removes the old database settings (stagedb.protection / stagedb.environment). ALTER DATABASE … RESET
 * of a custom setting needs what storing it needed: a superuser since PostgreSQL 15.
 */
export async function resetOldSetting(client: Client): Promise<void> {
  const db = (await client.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
  await client.query(`ALTER DATABASE ${quoteIdent(db)} RESET stagedb.protection`);
  await client.query(`ALTER DATABASE ${quoteIdent(db)} RESET stagedb.environment`);
}

/** Who may not write what, and the exact way out (exported for doctor's DOC017). */
export async function unstoredError(client: Client, env: MarkTarget, cause: unknown, afterwards = false): Promise<StagedbError> {
  const who = await client
    .query<{ u: string; d: string; owner: string }>(
      `SELECT current_user AS u, current_database() AS d, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()`,
    )
    .then((r) => r.rows[0])
    .catch(() => undefined);
  const reason = redact((cause as Error).message);
  const db = who?.d ?? 'the database';
  const consequence = afterwards
    ? ': until it is, a config whose URL points here by mistake is not refused'
    : env.protection === 'production'
      ? '; nothing was changed: without the marker, a config whose URL points here by mistake could treat it as development'
      : '';
  const i = env.directInfo;
  const owner = who?.owner ?? 'OWNER';
  const ownerUrl = `postgresql://${encodeURIComponent(owner)}:PASSWORD@${i ? `${i.host.includes(':') ? `[${i.host}]` : i.host}:${i.port}` : 'HOST:5432'}/${encodeURIComponent(i?.database ?? db)}`;
  const user = quoteIdent(who?.u ?? 'ROLE');
  const grant = /permission denied for schema/i.test(reason)
    ? `GRANT USAGE, CREATE ON SCHEMA ${MARKER_SCHEMA} TO ${user};  (as the owner of schema ${MARKER_SCHEMA})`
    : /permission denied for (table|relation)/i.test(reason)
      ? `GRANT INSERT, UPDATE ON ${MARKER_TABLE} TO ${user};  (as the owner of ${MARKER_TABLE})`
      : `GRANT CREATE ON DATABASE ${quoteIdent(db)} TO ${user};  (as the database owner, ${owner})`;
  const fix =
    who && who.u !== who.owner
      ? `mark it once as the database owner: stagedb marker set --env ${env.name} --url "${ownerUrl}" --confirm ${env.name}   (or let ${who.u} write it: ${grant})`
      : grant;
  return new StagedbError('guard', 'E_MARKER_UNSTORED', `${env.name}: could not store the protection marker in ${db} (${reason})${consequence}`, {
    fix,
    cause,
  });
}

/** Exposed for `stagedb marker`: the rank of a level. */
export function rankOf(p: Protection): number {
  return RANK[p];
}

/** What `changeMarker` did. */
export interface MarkerChange {
  before: Marker;
  after: Marker;
  /** The old database settings were removed too. */
  oldSettingReset: boolean;
  warnings: string[];
}

/**
 * Sets (`to`) or clears (`to` undefined) the database's marker: the row in stagedb.marker, and the old
 * database settings when they exist (they would otherwise keep counting, being the stricter). The old
 * settings go first: when they cannot be removed and would still be stricter than the result, nothing
 * is changed and the error says who can remove them.
 */
export async function changeMarker(client: Client, env: MarkTarget, to: { protection: Protection; environment: string } | undefined): Promise<MarkerChange> {
  const before = await readMarker(client);
  const warnings: string[] = [];
  let oldSettingReset = false;
  const old = before.setting;
  if (old && (old.protection !== to?.protection || old.environment !== to?.environment)) {
    try {
      await resetOldSetting(client);
      oldSettingReset = true;
    } catch (e) {
      const db = (await client.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
      const sql = `ALTER DATABASE ${quoteIdent(db)} RESET stagedb.protection; ALTER DATABASE ${quoteIdent(db)} RESET stagedb.environment;`;
      if (!to || RANK[old.protection] > RANK[to.protection]) {
        throw new StagedbError(
          'guard',
          'E_MARKER_OLD_SETTING',
          `${env.name}: the database also carries the old marker setting stagedb.protection = ${old.protection}${old.environment ? ` (environment ${old.environment})` : ''}, which this role may not remove (${redact((e as Error).message)}); nothing was changed`,
          { fix: `as a superuser, run: ${sql} then run this command again`, cause: e },
        );
      }
      warnings.push(`${env.name}: the old marker setting stagedb.protection = ${old.protection} stays (this role may not remove it; it is less strict than the new marker, so it no longer counts). A superuser can remove it: ${sql}`);
    }
  }
  try {
    if (to) await writeMarker(client, to);
    else await deleteMarker(client);
  } catch (e) {
    throw await unstoredError(client, { ...env, protection: to?.protection ?? env.protection }, e);
  }
  return { before, after: await readMarker(client), oldSettingReset, warnings };
}

/**
 * Whether this role could store the marker now, without trying: the reason it could not, in the words
 * PostgreSQL would use (for doctor, which must not write).
 */
export async function markerWritable(client: Client): Promise<{ ok: true } | { ok: false; reason: string }> {
  const r = await client.query<{ schema: boolean; schema_create: boolean | null; tbl: boolean; table_write: boolean | null; db_create: boolean; db: string }>(
    `SELECT n.oid IS NOT NULL AS schema,
            CASE WHEN n.oid IS NULL THEN NULL ELSE has_schema_privilege(n.oid, 'USAGE') AND has_schema_privilege(n.oid, 'CREATE') END AS schema_create,
            c.oid IS NOT NULL AS tbl,
            CASE WHEN c.oid IS NULL THEN NULL ELSE has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'INSERT,UPDATE') END AS table_write,
            has_database_privilege(current_database(), 'CREATE') AS db_create, current_database() AS db
       FROM (SELECT 1) one
       LEFT JOIN pg_namespace n ON n.nspname = $1
       LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = 'marker'`,
    [MARKER_SCHEMA],
  );
  const x = r.rows[0]!;
  if (!x.schema) return x.db_create ? { ok: true } : { ok: false, reason: `permission denied for database ${x.db}` };
  if (!x.tbl) return x.schema_create ? { ok: true } : { ok: false, reason: `permission denied for schema ${MARKER_SCHEMA}` };
  return x.table_write ? { ok: true } : { ok: false, reason: 'permission denied for table marker' };
}
