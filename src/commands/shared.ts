import { resolveEnvironment, selectEnvironments, type ResolvedEnvironment } from '../config/environments.js';
import { dirname } from 'node:path';
import { findConfigFile, loadConfig, type ResolvedConfig } from '../config/load.js';
import type { Client } from 'pg';
import { StagedbError } from '../errors.js';
import { loadSecrets, secretRefs } from '../aws/secrets.js';
import type { Action } from '../guard/protection.js';
import type { CommandContext, ParsedArgs } from './types.js';

export interface Loaded {
  config: ResolvedConfig;
  names: string[];
}

/** Loads the config and picks the environment names for a command (`--env`, STAGEDB_ENV, development). */
export async function loadTargets(ctx: CommandContext, args: ParsedArgs, opts: { allowAll?: boolean } = {}): Promise<Loaded> {
  const config = await loadConfig({ cwd: ctx.cwd, configFile: args.values.config as string | undefined });
  for (const w of config.warnings) ctx.warn(w);
  const flag = args.values.env as string | undefined;
  if (!opts.allowAll && (flag === 'all' || (flag === undefined && ctx.env.STAGEDB_ENV === 'all'))) {
    throw new StagedbError('usage', 'E_USAGE', 'this command runs on one environment at a time, not --env all', { fix: 'pick one: --env development' });
  }
  const names = selectEnvironments(config, flag, ctx.env);
  if (!opts.allowAll && names.length > 1) {
    throw new StagedbError('usage', 'E_USAGE', 'this command runs on one environment at a time', { fix: `pick one: --env ${names[0]}` });
  }
  // Secrets Manager URLs (secret() in the config), fetched once, before the synchronous resolution.
  // With several environments, one whose secret cannot be read reports it when it is resolved.
  if (names.some((n) => Object.hasOwn(config.environments, n) && secretRefs(config.environments[n]!).length > 0)) {
    if (names.length === 1) await loadSecrets(config, names, ctx.env);
    else await Promise.all(names.map((n) => loadSecrets(config, [n], ctx.env).catch(() => {})));
  }
  return { config, names };
}

/** Resolves one environment and prints its warnings. */
export function resolveOne(ctx: CommandContext, config: ResolvedConfig, name: string, urlOverride?: string): ResolvedEnvironment {
  const env = resolveEnvironment(config, name, { processEnv: ctx.env, urlOverride });
  for (const w of env.warnings) ctx.warn(`${name}: ${w}`);
  return env;
}

export const ENV_HELP = `  -e, --env <name>     environment (default: STAGEDB_ENV, else development; aliases dev, prod, stage)
  -c, --config <file>  config file (default: nearest stagedb.config.*; none = plain Prisma project)
      --json           machine-readable output on stdout`;

/** The project root for commands that need no environment: the config file's directory, else the cwd. */
export function projectRoot(ctx: CommandContext, args: ParsedArgs): string {
  const configFile = findConfigFile(ctx.cwd, args.values.config as string | undefined);
  return configFile ? dirname(configFile) : ctx.cwd;
}

export interface GuardedRun<T> {
  action: Action;
  /** The command line as the audit shows it, e.g. "deploy --env staging". */
  command: string;
  env: ResolvedEnvironment;
  config: ResolvedConfig;
  args: ParsedArgs;
  /** Shown in the confirmation question, e.g. "apply 2 pending migrations". */
  what?: string;
  /** The command itself; `client` is the guard's connection to the target, free to use (runGuarded closes it). */
  run: (client: Client) => Promise<{ value: T; summary: string }>;
  /** `stagedb marker` changes the marker itself: no check against it, no marking around it. */
  ownMarker?: boolean;
  /** The name to confirm with, when not the environment's (see `GuardInput.confirmAs`). */
  confirmAs?: string;
  /** The command line a confirmation fix repeats, when not `stagedb <command> --env <env>`. */
  retry?: string;
}

/** Commands that only read the target: they check its marker but never write it. */
const READ_ONLY: ReadonlySet<Action> = new Set(['backup', 'status', 'diff', 'generate', 'studio']);

/**
 * Every mutating command goes through here: the protection matrix (may ask, or refuse), the marker in
 * the target database (refuses when the database is marked stricter than this environment, or as
 * another environment), the command itself, then the audit record — whatever the outcome. A guarded
 * or production environment's database is marked before the command changes anything (for
 * production, a marker that cannot be stored refuses the command), and the marker is settled
 * afterwards: what a restore brought in with the source's data is replaced by the target's own.
 */
export async function runGuarded<T>(ctx: CommandContext, g: GuardedRun<T>): Promise<T> {
  const started = Date.now();
  const { enforce } = await import('../guard/protection.js');
  const audit = await import('../guard/audit.js');
  const { connect } = await import('../pg/connect.js');
  const { readMarker, checkMarker, ensureMarker, settleMarker } = await import('../guard/marker.js');
  const record = async (outcome: import('../guard/audit.js').Outcome, summary: string, client?: Client) => {
    const warning = await audit.recordAudit({
      env: g.env,
      root: g.config.root,
      client,
      record: { at: new Date(started).toISOString(), env: g.env.name, command: g.command, outcome, durationMs: Date.now() - started, summary, ...audit.actor(g.config.root, ctx.env) },
    });
    if (warning) ctx.warn(warning);
  };
  // Webhook notifications (config `notify`, issue 15): deploys and restores only. Loaded only when configured;
  // delivery never fails the command (a warning says what was not delivered).
  const notifies = Boolean(g.env.notify) && (g.action === 'deploy' || g.action === 'restore');
  const tell = async (n: Omit<import('../notify/index.js').Notification, 'env' | 'protection' | 'command' | 'at'>) => {
    if (!notifies) return;
    const { notify } = await import('../notify/index.js');
    const a = audit.actor(g.config.root, ctx.env);
    const warning = await notify(g.env, { ...n, env: g.env.name, protection: g.env.protection, command: g.command, at: new Date().toISOString(), actor: a.gitAuthor ?? `${a.osUser}@${a.host}` });
    if (warning) ctx.warn(warning);
  };
  let client: Client | undefined;
  let ran: import('../guard/marker.js').Marker | undefined;
  try {
    await enforce({
      action: g.action,
      env: g.env,
      confirmFlag: g.args.values.confirm as string | undefined,
      force: Boolean(g.args.values.force),
      interactive: ctx.interactive,
      typeToConfirm: ctx.typeToConfirm,
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
      if (warning) ctx.warn(warning);
    }
    ran = marker && marks ? marker : undefined;
    if (g.action === 'deploy') await tell({ event: 'deploy-started', summary: g.what ?? 'deploy' });
    const { value, summary } = await g.run(client);
    if (ran) {
      const warning = await settleMarker(client, g.env, ran);
      ran = undefined;
      if (warning) ctx.warn(warning);
    }
    await record('ok', summary, client);
    await tell({ event: g.action === 'restore' ? 'restore-succeeded' : 'deploy-succeeded', summary });
    return value;
  } catch (e) {
    if (e instanceof StagedbError && e.kind === 'connection' && !client) throw e; // nothing reached the database
    // A command that failed midway (a restore that had already brought in the source's schema stagedb)
    // leaves the marker as the target's own, as far as the connection still allows.
    if (ran && client) await settleMarker(client, g.env, ran).catch(() => undefined);
    const outcome = e instanceof StagedbError ? (e.kind === 'guard' || e.code === 'E_DRIFT' || e.code === 'E_DRIFT_UNCHECKED' ? 'refused' : e.kind === 'aborted' ? 'aborted' : 'failed') : 'failed';
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
