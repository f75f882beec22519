import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { connect } from '../pg/connect.js';
import { redact } from '../redact.js';
import type { LocalHistory } from './local.js';
import { compareHistory, type HistoryState } from './state.js';
import { readStatus } from './table.js';
import { shellQuote } from '../shell-quote.js';

/** `not-configured`: the environment has no URL of its own yet (its variable is not set). */
export type EnvState = 'up-to-date' | 'pending' | 'blocked' | 'error' | 'not-configured';

export interface EnvStatus {
  env: string;
  protection: string;
  /** Host, port and database: never the password. */
  target: string;
  directSource: string;
  serverVersion?: string;
  state: EnvState;
  history?: HistoryState;
  /** The history table does not exist yet (nothing deployed). */
  uninitialized?: boolean;
  error?: { code: string; message: string; fix?: string };
  ms: number;
}

/**
 * Reads one environment's history. Never throws for a database problem: it becomes `state: 'error'`.
 * `local` may be a function that reads the migrations folder: it is called once the query is on its
 * way, so that reading and hashing the files overlaps the server's work instead of preceding the
 * connection (`status --env all` passes one memoised reader to every environment).
 */
export async function environmentStatus(env: ResolvedEnvironment, local: LocalHistory | (() => LocalHistory)): Promise<EnvStatus> {
  const t0 = performance.now();
  const i = env.directInfo;
  const base = {
    env: env.name,
    protection: env.protection,
    target: `${i.host}:${i.port}/${i.database}${i.schema !== 'public' ? `?schema=${i.schema}` : ''}`,
    directSource: env.directSource,
  };
  let client;
  try {
    client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'status', connectTimeoutMs: 5_000 });
    // One round trip when the history table exists (a second, the probe, on a database never deployed to).
    const reading = readStatus(client, i.schema);
    let folder: LocalHistory;
    try {
      folder = typeof local === 'function' ? local() : local;
    } catch (e) {
      reading.catch(() => {});
      throw e;
    }
    const read = await reading;
    const p = read.probe ?? { tableExists: true, otherObjects: 0 };
    const history = compareHistory(folder.migrations, read.rows ?? []);
    // Deploy refuses a non-empty schema without _prisma_migrations (P3005); status must say so too.
    const notBaselined = !p.tableExists && p.otherObjects > 0;
    const blocked = notBaselined || history.failed.length + history.modified.length + history.missingLocally.length > 0;
    const state: EnvState = blocked ? 'blocked' : history.pending > 0 ? 'pending' : 'up-to-date';
    const error = notBaselined
      ? {
          code: 'E_NOT_BASELINED',
          message: `schema "${i.schema}" has ${p.otherObjects} objects but no _prisma_migrations table: deploy cannot tell which migrations it already has`,
          fix: `baseline it: stagedb migrate resolve --applied ${folder.migrations[0] ? shellQuote(folder.migrations[0].name) : '<first-migration>'} --env ${env.name}   (for each migration already reflected in the database)`,
        }
      : undefined;
    return { ...base, serverVersion: read.serverVersion, state, history, uninitialized: !p.tableExists, error, ms: performance.now() - t0 };
  } catch (e) {
    const err = e instanceof StagedbError ? e : undefined;
    return {
      ...base,
      state: 'error',
      error: { code: err?.code ?? (e as { code?: string }).code ?? 'E_DATABASE', message: redact(err?.message ?? String((e as Error).message ?? e)), fix: err?.fix },
      ms: performance.now() - t0,
    };
  } finally {
    await client?.end().catch(() => {});
  }
}
