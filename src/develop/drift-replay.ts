/**
 * The history half of a drift check without the schema engine, when it can be done that way: replay
 * the applied migrations on a temporary shadow database with plain SQL, fingerprint the result with
 * the same catalog query as the live database (drift-cache.ts), and compare the two hashes. Equal
 * hashes mean the database is what its migrations produce (the fingerprint reads at least everything
 * the engine compares), so there is no drift to describe and the engine's own replay is not needed.
 * Anything else (different hashes, a migration that fails here, no CREATEDB, a configured
 * shadowDatabaseUrl) returns `undefined`, and the caller asks the engine, exactly as before: this
 * path can only ever answer "no drift", and only when the two schemas are identical.
 *
 * Why not always the engine: it runs every statement of the history as its own round trip and then
 * describes both databases. Here consecutive migrations that are plain DDL share one transaction, and
 * consecutive transactions go to the server as one multi-statement message (replayMessages).
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import type { LocalMigration } from '../history/local.js';
import { chooseMode } from '../history/mode.js';
import { connect } from '../pg/connect.js';
import { quoteIdent } from '../pg/quote-ident.js';

/** One round trip of the replay: a multi-statement script (one implicit transaction, or the file's own BEGIN/COMMIT), or statements one by one. */
export interface ReplayBatch {
  migrations: string[];
  kind: 'script' | 'statements';
  texts: string[];
  /** A file with its own BEGIN/COMMIT, sent as written. */
  ownTransaction?: boolean;
}

/**
 * The replay's batches as round trips: consecutive scripts that run in a transaction go in ONE
 * simple-query message, each wrapped in an explicit BEGIN … COMMIT. PostgreSQL runs such a message
 * statement by statement, parsing each one just before it runs, so a group still commits (an enum
 * value added there) before the next one uses it, exactly as separate messages would; and the
 * server goes from one group to the next without waiting for this process, whose thread is busy
 * starting the schema engine meanwhile. A file with its own BEGIN/COMMIT goes in the same message as
 * written; only statements that must run outside a transaction (CONCURRENTLY) are sent on their own.
 */
export function* replayMessages(batches: Iterable<ReplayBatch>): Generator<{ kind: 'script' | 'statements'; texts: string[] }> {
  let wrapped: string[] = [];
  for (const b of batches) {
    if (b.kind === 'script') {
      // "\n;\n": a file that ends in a -- comment without a newline does not swallow what follows. A
      // file with its own BEGIN/COMMIT goes as written, in the same message: the server runs it as psql
      // would, without a turn of this process (busy with the schema engine) between it and the next.
      wrapped.push(b.ownTransaction ? `${b.texts.join('\n;\n')}\n;` : `BEGIN;\n${b.texts.join('\n;\n')}\n;\nCOMMIT;`);
      continue;
    }
    if (wrapped.length > 0) yield { kind: 'script', texts: [wrapped.join('\n')] };
    wrapped = [];
    yield { kind: b.kind, texts: b.texts };
  }
  if (wrapped.length > 0) yield { kind: 'script', texts: [wrapped.join('\n')] };
}

/**
 * Statements that may share a transaction with the migrations around them without changing what
 * they produce: schema changes. Data changes (INSERT/UPDATE/…), SET (SET LOCAL would reach the next
 * file), DO blocks and anything else run in their own file's transaction, as deploy runs them.
 */
const GROUPABLE = /^(CREATE|ALTER|DROP|COMMENT ON)\b/;
const ADD_ENUM_VALUE = /^ALTER TYPE\b.*\bADD VALUE\b/;

/**
 * The replay's round trips, in order. Each migration runs as deploy runs it: a `transaction` file in
 * one transaction (consecutive DDL-only files share one: an enum value added there is committed
 * before the next file, which may use it), a file with its own BEGIN/COMMIT as written, a file with
 * CREATE INDEX CONCURRENTLY & co. statement by statement.
 */
export function* replayBatches(migrations: readonly Pick<LocalMigration, 'name' | 'script'>[], serverVersionNum: number): Generator<ReplayBatch> {
  let group: ReplayBatch | undefined;
  for (const m of migrations) {
    const choice = chooseMode(m.script, serverVersionNum);
    if (choice.mode === 'statements' || choice.mode === 'file-managed' || !choice.statements.every((s) => GROUPABLE.test(s.head))) {
      if (group) yield group;
      group = undefined;
      yield choice.mode === 'statements'
        ? { migrations: [m.name], kind: 'statements', texts: choice.statements.map((s) => s.text) }
        : { migrations: [m.name], kind: 'script', texts: [m.script], ...(choice.mode === 'file-managed' ? { ownTransaction: true } : {}) };
    } else {
      group ??= { migrations: [], kind: 'script', texts: [] };
      group.migrations.push(m.name);
      group.texts.push(m.script);
      if (choice.statements.some((s) => ADD_ENUM_VALUE.test(s.head))) {
        yield group;
        group = undefined;
      }
    }
  }
  if (group) yield group;
}

export interface ShadowFingerprintOptions {
  env: ResolvedEnvironment;
  /** The applied migrations, in order, with their scripts. */
  migrations: readonly Pick<LocalMigration, 'name' | 'script'>[];
  /** The schemas the fingerprint covers (the live side's). */
  schemas: string[];
  /** The live side's fingerprint query (drift-cache.ts), run the same way on the shadow database. */
  fingerprint: (client: Client, schemas: string[]) => Promise<{ hash: string }>;
}

export interface ShadowReplay {
  /** The replayed schema's fingerprint; undefined when the replay could not be done here (see the top of this file). */
  hash?: string;
  /** Settles once the temporary database is dropped (the caller goes on meanwhile, and waits for it before it ends). */
  dropped: Promise<void>;
}

/**
 * Replays the migrations on a temporary database created on the environment's server and
 * fingerprints it. The database is always dropped, whatever happened: `dropped` says when.
 */
export async function shadowFingerprint(o: ShadowFingerprintOptions): Promise<ShadowReplay> {
  const { env } = o;
  // A configured shadow database is emptied by the engine after checking it is not the live one: left to it.
  if (env.shadowDatabaseUrl) return { dropped: Promise.resolve() };
  const label = `${env.name} (${env.directSource})`;
  let admin: Client | undefined;
  let name: string | undefined;
  let server = 0;
  let hash: string | undefined;
  let making: Making | undefined;
  try {
    making = takeReserved(env) ?? createShadow(env);
    // The round trips are split and classified while the server makes the database (the server's
    // version, read first, says which statements must run outside a transaction).
    const messages = [...replayMessages(replayBatches(o.migrations, await making.server))];
    const made = await making.made;
    ({ admin, name, server } = made);
    const url = new URL(env.directUrl);
    url.pathname = `/${encodeURIComponent(name)}`;
    const shadow = await connect(url.toString(), { label, purpose: 'drift shadow' });
    try {
      // The shadow database is thrown away: nothing of it needs to survive a crash.
      await shadow.query('SET synchronous_commit = off');
      const schema = env.directInfo.schema;
      if (schema !== 'public') await shadow.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}; SET search_path TO ${quoteIdent(schema)}`);
      let running: Promise<unknown> = Promise.resolve();
      for (const b of messages) {
        await running;
        if (b.kind === 'statements') {
          for (const t of b.texts) await shadow.query(t);
          running = Promise.resolve();
        } else {
          running = shadow.query(b.texts[0]!);
          running.catch(() => {});
        }
      }
      await running;
      hash = (await o.fingerprint(shadow, o.schemas)).hash;
    } finally {
      await shadow.end().catch(() => {});
    }
  } catch (e) {
    // No CREATEDB, a migration that fails here but not through the engine, …: the engine's replay decides (and says why).
    // Whatever failed, the database being made is dropped once it is (or is known not to be) made.
    const made = (e as { made?: Partial<Shadow> }).made ?? (admin ? undefined : await making?.made.catch((x: { made?: Partial<Shadow> }) => x.made));
    if (made) {
      admin = made.admin;
      name = made.name;
      server = made.server ?? 0;
    }
    hash = undefined;
  }
  return { hash, dropped: dropShadow({ admin, name, server }) };
}

/** A temporary database made on an environment's server, and the connection that made it (and drops it). */
interface Shadow {
  admin: Client;
  name: string;
  server: number;
}

/** A temporary database being made: the server's version comes first, the database when CREATE DATABASE is done. */
interface Making {
  server: Promise<number>;
  made: Promise<Shadow>;
}

/**
 * CREATE DATABASE on the environment's server; a failure carries what must still be closed or dropped
 * (`made`). Both promises reject on a failure before the version is known; `server` never rejects after.
 */
function createShadow(env: ResolvedEnvironment): Making {
  const partial: Partial<Shadow> = {};
  const fail = (e: unknown) => Object.assign(e instanceof Error ? e : new Error(String(e)), { made: partial });
  const server = (async () => {
    try {
      partial.admin = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'drift shadow' });
      partial.server = Number((await partial.admin.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
      return partial.server;
    } catch (e) {
      throw fail(e);
    }
  })();
  const made = (async () => {
    await server;
    try {
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      await partial.admin!.query(`CREATE DATABASE ${quoteIdent(name)}`);
      partial.name = name;
      return partial as Shadow;
    } catch (e) {
      throw fail(e);
    }
  })();
  server.catch(() => {});
  made.catch(() => {});
  return { server, made };
}

/** Drops what createShadow made, as far as it got, and closes its connection; never throws. */
async function dropShadow(s: Partial<Shadow>): Promise<void> {
  if (s.admin && s.name) await s.admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(s.name)}${(s.server ?? 0) >= 130000 ? ' WITH (FORCE)' : ''}`).catch(() => {});
  await s.admin?.end().catch(() => {});
}

/**
 * Temporary databases made ahead of a check that will certainly replay (an empty drift cache: a fresh CI
 * checkout), while the caller does other work, so that CREATE DATABASE is off the check's critical path.
 * One per server and role (a database the role made is one it may create tables in); taken by the first
 * replay on that server, dropped by {@link releaseShadows} if none takes it.
 */
const reserved = new Map<string, Making>();

const reservationKey = (env: ResolvedEnvironment) => {
  const u = new URL(env.directUrl);
  return `${u.username}@${env.directInfo.host}:${env.directInfo.port}`;
};

/** Starts making a temporary database on the environment's server now (see {@link reserved}). */
export function reserveShadow(env: ResolvedEnvironment): void {
  if (env.shadowDatabaseUrl) return;
  const key = reservationKey(env);
  if (reserved.has(key)) return;
  reserved.set(key, createShadow(env));
}

/** The database made ahead for this server, if any; one that failed is made again now (the replay reports why if it fails again). */
function takeReserved(env: ResolvedEnvironment): Making | undefined {
  const key = reservationKey(env);
  const m = reserved.get(key);
  if (!m) return undefined;
  reserved.delete(key);
  let again: Making | undefined;
  const retry = async (e: { made?: Partial<Shadow> }) => {
    await dropShadow(e.made ?? {});
    again ??= createShadow(env);
    return again;
  };
  return {
    server: m.server.catch(async (e) => (await retry(e)).server),
    made: m.made.catch(async (e) => (await retry(e)).made),
  };
}

/** Drops the temporary databases made ahead that no replay took. */
export async function releaseShadows(): Promise<void> {
  const left = [...reserved.values()];
  reserved.clear();
  await Promise.all(left.map(async (m) => dropShadow(await m.made.catch((e: { made?: Partial<Shadow> }) => e.made ?? {}))));
}
