import { resolveEnvironment, selectEnvironments, type ResolvedEnvironment } from '../config/environments.js';
import { dirname } from 'node:path';
import { findConfigFile, loadConfig, type ResolvedConfig } from '../config/load.js';
import { StagedbError } from '../errors.js';
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

/** A command a later issue completes: it says so plainly, and points at what works today. */
export function notYet(what: string, issue: string, meanwhile: string) {
  return {
    usage: `Not built yet: ${what} arrives with ${issue}.\nMeanwhile: ${meanwhile}`,
    options: {},
    positionals: true,
    // Any flag: `stagedb migrate dev --name init` must say "not built yet", not "unknown option --name".
    strict: false,
    async run(): Promise<never> {
      throw new StagedbError('usage', 'E_NOT_BUILT', `${what} is not built yet in this version of stagedb (${issue})`, { fix: meanwhile });
    },
  };
}

/** The project root for commands that need no environment: the config file's directory, else the cwd. */
export function projectRoot(ctx: CommandContext, args: ParsedArgs): string {
  const configFile = findConfigFile(ctx.cwd, args.values.config as string | undefined);
  return configFile ? dirname(configFile) : ctx.cwd;
}
