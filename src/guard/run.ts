import type { Client } from 'pg';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import type { Action } from './protection.js';

/** One mutating operation as the guard runs it (see `runGuarded`). */
export interface GuardedOperation<T> {
  action: Action;
  /** The command line as the audit shows it, e.g. "deploy --env staging". */
  command: string;
  env: ResolvedEnvironment;
  /** The project root (the config's): where a development environment's `.stagedb/audit.jsonl` goes. */
  root: string;
  /** The environment variables that say who acts (USER, CI, GIT_AUTHOR_NAME …). Default: process.env. */
  processEnv?: NodeJS.ProcessEnv;
  /** `--confirm <env>`: the name typed ahead, for CI. */
  confirm?: string;
  /** `--force`: skips the question only where the level is `none`. */
  force?: boolean;
  /** A terminal to ask in; without one, an operation that needs confirmation is refused (E_CONFIRM_REQUIRED). */
  interactive?: boolean;
  /** Asks the user to type the environment's name (only called when `interactive`). */
  typeToConfirm?: (message: string, expected: string) => Promise<boolean>;
  /** Shown in the confirmation question, e.g. "apply 2 pending migrations". */
  what?: string;
  /** The operation itself; `client` is the guard's connection to the target, free to use (closed afterwards). */
  run: (client: Client) => Promise<{ value: T; summary: string }>;
  /** `stagedb marker` changes the marker itself: no check against it, no marking around it. */
  ownMarker?: boolean;
  /** The name to confirm with, when not the environment's (see `GuardInput.confirmAs`). */
  confirmAs?: string;
  /** The command line a confirmation fix repeats, when not `stagedb <command> --env <env>`. */
  retry?: string;
  /** A warning the guard has for the user (a marker or audit record it could not store, an undelivered webhook). */
  onWarning?: (line: string) => void;
}

/** Operations that only read the target: they check its marker but never write it. */
const READ_ONLY: ReadonlySet<Action> = new Set(['backup', 'status', 'diff', 'generate', 'studio']);

const noConfirm = async () => false;

/**
 * Every mutating operation goes through here, the CLI's commands and the library's `deploy` alike: the
 * protection matrix (may ask, or refuse), the marker in the target database (refuses when the database
 * is marked stricter than this environment, or as another environment), the operation itself, then the
 * audit record — whatever the outcome. A guarded or production environment's database is marked before
 * the operation changes anything (for production, a marker that cannot be stored refuses it), and the
 * marker is settled afterwards: what a restore brought in with the source's data is replaced by the
 * target's own.
 */
export async function runGuarded<T>(g: GuardedOperation<T>): Promise<T> {
  const started = Date.now();
  const processEnv = g.processEnv ?? process.env;
  const warn = (w: string | undefined) => {
    if (w) g.onWarning?.(w);
  };
  const { enforce } = await import('./protection.js');
  const audit = await import('./audit.js');
  const { connect } = await import('../pg/connect.js');
  const { readMarker, checkMarker, ensureMarker, settleMarker } = await import('./marker.js');
  const record = async (outcome: import('./audit.js').Outcome, summary: string, client?: Client) => {
    warn(await audit.recordRun({ env: g.env, root: g.root, processEnv, command: g.command, started, outcome, summary, client }));
  };
  // Webhook notifications (config `notify`, issue 15): deploys and restores only. Loaded only when configured;
  // delivery never fails the operation (a warning says what was not delivered).
  const notifies = Boolean(g.env.notify) && (g.action === 'deploy' || g.action === 'restore');
  const tell = async (n: Omit<import('../notify/index.js').Notification, 'env' | 'protection' | 'command' | 'at'>) => {
    if (!notifies) return;
    const { notify } = await import('../notify/index.js');
    const a = audit.actor(g.root, processEnv);
    warn(await notify(g.env, { ...n, env: g.env.name, protection: g.env.protection, command: g.command, at: new Date().toISOString(), actor: a.gitAuthor ?? `${a.osUser}@${a.host}` }));
  };
  let client: Client | undefined;
  let ran: import('./marker.js').Marker | undefined;
  try {
    await enforce({
      action: g.action,
      env: g.env,
      confirmFlag: g.confirm,
      force: Boolean(g.force),
      interactive: Boolean(g.interactive),
      typeToConfirm: g.typeToConfirm ?? noConfirm,
      what: g.what,
      confirmAs: g.confirmAs,
      retry: g.retry,
    });
    client = await connect(g.env.directUrl, { label: `${g.env.name} (${g.env.directSource})`, purpose: 'guard' });
    const marks = !g.ownMarker && !READ_ONLY.has(g.action);
    const marker = g.ownMarker ? undefined : await readMarker(client);
    if (marker) checkMarker(marker, g.env);
    // A restore replaces the target's schema stagedb when the target has none (a new database after a
    // disaster gets its audit trail back from the backup): marking it first would prevent that, so a
    // restore is marked afterwards, by settleMarker.
    if (marker && marks && g.action !== 'restore') {
      const { warning } = await ensureMarker(client, g.env, marker);
      warn(warning);
    }
    ran = marker && marks ? marker : undefined;
    if (g.action === 'deploy') await tell({ event: 'deploy-started', summary: g.what ?? 'deploy' });
    const { value, summary } = await g.run(client);
    if (ran) {
      const warning = await settleMarker(client, g.env, ran);
      ran = undefined;
      warn(warning);
    }
    await record('ok', summary, client);
    await tell({ event: g.action === 'restore' ? 'restore-succeeded' : 'deploy-succeeded', summary });
    return value;
  } catch (e) {
    if (e instanceof StagedbError && e.kind === 'connection' && !client) throw e; // nothing reached the database
    // An operation that failed midway (a restore that had already brought in the source's schema stagedb)
    // leaves the marker as the target's own, as far as the connection still allows.
    if (ran && client) await settleMarker(client, g.env, ran).catch(() => undefined);
    const outcome = audit.outcomeOf(e);
    await record(outcome, e instanceof Error ? e.message : String(e), client).catch(() => {});
    const se = e instanceof StagedbError ? e : undefined;
    await tell({
      event: se?.code === 'E_DRIFT' ? 'drift' : outcome === 'refused' ? 'refused' : g.action === 'restore' ? 'restore-failed' : 'deploy-failed',
      summary: e instanceof Error ? e.message : String(e),
      ...(se ? { code: se.code, details: se.details, ...(se.fix ? { fix: se.fix } : {}) } : {}),
    }).catch(() => {});
    throw e;
  } finally {
    await client?.end().catch(() => {});
  }
}
