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

/**
 * Every mutating command goes through the guard (src/guard/run.ts: protection matrix, marker, the
 * command, audit record), with the flags and the terminal the command was given.
 */
export async function runGuarded<T>(ctx: CommandContext, g: GuardedRun<T>): Promise<T> {
  const guard = await import('../guard/run.js');
  return guard.runGuarded({
    action: g.action,
    command: g.command,
    env: g.env,
    root: g.config.root,
    processEnv: ctx.env,
    confirm: g.args.values.confirm as string | undefined,
    force: Boolean(g.args.values.force),
    interactive: ctx.interactive,
    typeToConfirm: ctx.typeToConfirm,
    what: g.what,
    run: g.run,
    ownMarker: g.ownMarker,
    confirmAs: g.confirmAs,
    retry: g.retry,
    onWarning: (w) => ctx.warn(w),
  });
}
