import { resolveEnvironment, selectEnvironments, type ResolvedEnvironment } from '../config/environments.js';
import { dirname } from 'node:path';
import { findConfigFile, loadConfig, type ResolvedConfig } from '../config/load.js';
import type { Client } from 'pg';
import { StagedbError } from '../errors.js';
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
}

/**
 * Every mutating command goes through here: the protection matrix (may ask, or refuse), the marker in
 * the target database (refuses when the database is marked stricter than this environment), the
 * command itself, then the audit record — whatever the outcome. Guarded and production environments
 * are marked after a successful run.
 */
export async function runGuarded<T>(ctx: CommandContext, g: GuardedRun<T>): Promise<T> {
  const started = Date.now();
  const { enforce } = await import('../guard/protection.js');
  const audit = await import('../guard/audit.js');
  const { connect } = await import('../pg/connect.js');
  const { readMarker, checkMarker, markDatabase } = await import('../guard/marker.js');
  const record = async (outcome: import('../guard/audit.js').Outcome, summary: string, client?: Client) => {
    const warning = await audit.recordAudit({
      env: g.env,
      root: g.config.root,
      client,
      record: { at: new Date(started).toISOString(), env: g.env.name, command: g.command, outcome, durationMs: Date.now() - started, summary, ...audit.actor(g.config.root, ctx.env) },
    });
    if (warning) ctx.warn(warning);
  };
  let client: Client | undefined;
  try {
    await enforce({
      action: g.action,
      env: g.env,
      confirmFlag: g.args.values.confirm as string | undefined,
      force: Boolean(g.args.values.force),
      interactive: ctx.interactive,
      typeToConfirm: ctx.typeToConfirm,
      what: g.what,
    });
    client = await connect(g.env.directUrl, { label: `${g.env.name} (${g.env.directSource})`, purpose: 'guard' });
    const marker = await readMarker(client);
    checkMarker(marker, g.env);
    const { value, summary } = await g.run(client);
    const warning = await markDatabase(client, g.env, marker);
    if (warning) ctx.warn(warning);
    await record('ok', summary, client);
    return value;
  } catch (e) {
    if (e instanceof StagedbError && e.kind === 'connection' && !client) throw e; // nothing reached the database
    const outcome = e instanceof StagedbError ? (e.kind === 'guard' ? 'refused' : e.kind === 'aborted' ? 'aborted' : 'failed') : 'failed';
    await record(outcome, e instanceof Error ? e.message : String(e), client).catch(() => {});
    throw e;
  } finally {
    await client?.end().catch(() => {});
  }
}
