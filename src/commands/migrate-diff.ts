import { resolve } from 'node:path';
import { selectEnvironments } from '../config/environments.js';
import type { ResolvedConfig } from '../config/load.js';
import { StagedbError, usageError } from '../errors.js';
import type { DiffSide } from '../develop/diff.js';
import { EXIT } from '../exit-codes.js';
import { loadTargets, resolveOne, ENV_HELP } from './shared.js';
import type { Command, CommandContext } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';

const SIDES = 'empty | schema[:<path>] | migrations[:<dir>] | env:<name>';

const command: Command = {
  usage: `Usage: stagedb migrate diff --from <side> --to <side> [--shadow-env <name>] [--exit-code]

Prints the SQL that turns one schema into another, as \`prisma migrate diff --script\` does (Prisma's
own schema engine, as WebAssembly). A side is one of:
  empty                 nothing
  schema[:<path>]       schema.prisma (default: the config's)
  migrations[:<dir>]    the migrations folder, replayed on a temporary shadow database
  env:<name>            the live database of an environment (only one per diff)
Examples: --from env:staging --to schema        what a push to staging would run
          --from migrations --to env:production  changes made to production outside the history

      --shadow-env <name>   the server to compute on when no side is a database (default: the --env one)
      --exit-code           exit 1 when the two differ, 0 when they match
${ENV_HELP}`,
  options: { from: { type: 'string' }, to: { type: 'string' }, 'shadow-env': { type: 'string' }, 'exit-code': { type: 'boolean' } },
  async run(ctx, args) {
    const from = args.values.from as string | undefined;
    const to = args.values.to as string | undefined;
    if (!from || !to) throw usageError('E_USAGE', 'migrate diff needs --from and --to', 'e.g. stagedb migrate diff --from migrations --to schema');
    const { config, names } = await loadTargets(ctx, args);
    // env:<name> sides and --shadow-env may read their URLs from Secrets Manager: fetched before resolving.
    const named = [from, to].filter((t) => t.startsWith('env:')).map((t) => t.slice(4));
    const shadowFlag = args.values['shadow-env'] as string | undefined;
    const known = [...named, ...(shadowFlag ? [shadowFlag] : [])].flatMap((n) => {
      try {
        return selectEnvironments(config, n, ctx.env);
      } catch {
        return []; // an unknown name: oneEnv says so
      }
    });
    if (known.length > 0) await (await import('../aws/secrets.js')).loadSecrets(config, known, ctx.env);
    const side = (text: string, flag: string): DiffSide => parseSide(text, flag, config, ctx);
    const fromSide = side(from, '--from');
    const toSide = side(to, '--to');
    const shadowName = (args.values['shadow-env'] as string | undefined) ?? names[0]!;
    const needsServer = ![fromSide, toSide].some((s) => s.kind === 'database');
    const shadowEnv = needsServer ? resolveOne(ctx, config, oneEnv(config, shadowName, ctx)) : undefined;
    await baselineWasmOnly();
    const { diffSchemas } = await import('../develop/diff.js');
    const r = await diffSchemas({ from: fromSide, to: toSide, shadowEnv });
    const differ = !r.empty;
    return {
      exitCode: args.values['exit-code'] && differ ? EXIT.pending : EXIT.ok,
      data: { from, to, empty: r.empty, script: r.script },
      text: r.script.trimEnd(),
    };
  },
};

/** One environment by name, with the aliases and the "unknown environment" message every command gives. */
function oneEnv(config: ResolvedConfig, name: string, ctx: CommandContext): string {
  let names: string[];
  try {
    names = selectEnvironments(config, name, ctx.env);
  } catch (e) {
    if (e instanceof StagedbError && e.code === 'E_ENV_UNKNOWN') {
      throw new StagedbError('config', e.code, `unknown environment "${name}"; defined: ${Object.keys(config.environments).join(', ')}`, { fix: `e.g. env:${Object.keys(config.environments)[0]}` });
    }
    throw e;
  }
  if (names.length !== 1) throw usageError('E_USAGE', `"${name}" names ${names.length} environments; a diff side is one database`, 'e.g. env:staging');
  return names[0]!;
}

function parseSide(text: string, flag: string, config: ResolvedConfig, ctx: CommandContext): DiffSide {
  const [kind, ...rest] = text.split(':');
  const arg = rest.join(':');
  switch (kind) {
    case 'empty':
      return { kind: 'empty' };
    case 'schema':
      return { kind: 'schema', path: arg ? resolve(ctx.cwd, arg) : config.schemaPath };
    case 'migrations':
      return { kind: 'migrations', dir: arg ? resolve(ctx.cwd, arg) : config.migrationsDir };
    case 'env':
      if (!arg) break;
      return { kind: 'database', env: resolveOne(ctx, config, oneEnv(config, arg, ctx)) };
    default:
      break;
  }
  throw usageError('E_USAGE', `${flag} ${text}: not a diff side (${SIDES})`, `e.g. stagedb migrate diff --from migrations --to env:development`);
}

export default command;
