import type { Protection } from '../config/define.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';

/**
 * The protection matrix: the one place that decides, for every command and protection level, whether
 * it runs freely, needs typed confirmation (type the environment's name in a terminal, or
 * `--confirm <env>` in CI), or is refused outright. The README's table is this table.
 */
export type Action =
  | 'status'
  | 'diff'
  | 'generate'
  | 'backup'
  | 'studio'
  | 'deploy'
  | 'resolve'
  | 'seed'
  | 'push'
  | 'migrate-dev'
  | 'reset'
  | 'restore'
  | 'marker';

export type Rule = 'free' | 'confirm' | 'refuse';

export const MATRIX: Record<Action, Record<Protection, Rule>> = {
  status: { none: 'free', guarded: 'free', production: 'free' },
  diff: { none: 'free', guarded: 'free', production: 'free' },
  generate: { none: 'free', guarded: 'free', production: 'free' },
  backup: { none: 'free', guarded: 'free', production: 'free' },
  studio: { none: 'free', guarded: 'free', production: 'free' },
  deploy: { none: 'free', guarded: 'free', production: 'confirm' },
  resolve: { none: 'free', guarded: 'confirm', production: 'confirm' },
  seed: { none: 'free', guarded: 'confirm', production: 'refuse' },
  push: { none: 'free', guarded: 'confirm', production: 'refuse' },
  'migrate-dev': { none: 'free', guarded: 'refuse', production: 'refuse' },
  reset: { none: 'confirm', guarded: 'refuse', production: 'refuse' },
  restore: { none: 'free', guarded: 'confirm', production: 'confirm' },
  // Changing or clearing the marker is what protects a database from a wrong URL: asked everywhere.
  marker: { none: 'confirm', guarded: 'confirm', production: 'confirm' },
};

/** What to run instead, for each refusal. */
const INSTEAD: Partial<Record<Action, string>> = {
  seed: 'seed a development or staging environment (stagedb seed --env staging); production data belongs in a reviewed migration (or set allowSeed: true for <env> in the config)',
  push: 'create a migration in development (stagedb migrate dev) and deploy it: stagedb deploy --env <env>',
  'migrate-dev': 'create migrations against development (stagedb migrate dev), then apply them here: stagedb migrate deploy --env <env>',
  reset: 'reset only development databases; to undo a deploy here, restore the pre-deploy backup or roll forward with a new migration',
};

export const COMMAND_OF: Record<Action, string> = {
  status: 'status',
  diff: 'migrate diff',
  generate: 'generate',
  backup: 'backup',
  studio: 'studio',
  deploy: 'deploy',
  resolve: 'migrate resolve',
  seed: 'seed',
  push: 'push',
  'migrate-dev': 'migrate dev',
  reset: 'migrate reset',
  restore: 'restore',
  marker: 'marker',
};

export interface GuardInput {
  action: Action;
  env: Pick<ResolvedEnvironment, 'name' | 'protection'> & { allowSeed?: boolean };
  /** `--confirm <env>`: the name typed ahead, for CI. */
  confirmFlag?: string;
  /** `--force`: skips the question only where the level is `none`. */
  force?: boolean;
  interactive: boolean;
  /** Asks the user to type the environment's name. */
  typeToConfirm: (message: string, expected: string) => Promise<boolean>;
  /** What will happen, shown in the question (e.g. "apply 2 migrations"). */
  what?: string;
  /**
   * The name to type (or give to --confirm) when it is not the target environment's: `stagedb marker`
   * asks for the name of the environment the database says it is, when that is another one.
   */
  confirmAs?: string;
  /** The command line to repeat with --confirm, when it is not `stagedb <command> --env <env>`. */
  retry?: string;
}

/** Applies the matrix. Resolves when the command may go on; throws a `guard` or `aborted` error otherwise. */
export async function enforce(input: GuardInput): Promise<void> {
  const { action, env } = input;
  // The one configurable cell: `allowSeed` turns seeding a production environment from refused into confirmed.
  const rule = action === 'seed' && env.protection === 'production' && env.allowSeed ? 'confirm' : MATRIX[action][env.protection];
  const cmd = COMMAND_OF[action];
  if (rule === 'free') return;
  if (rule === 'refuse') {
    throw new StagedbError('guard', 'E_REFUSED', `stagedb ${cmd} is refused on ${env.name} (protection: ${env.protection})`, {
      fix: (INSTEAD[action] ?? 'run it on an environment with lower protection').replace('<env>', env.name),
    });
  }
  const expected = input.confirmAs ?? env.name;
  const retry = input.retry ?? `stagedb ${cmd} --env ${env.name}`;
  if (input.confirmFlag !== undefined) {
    if (input.confirmFlag === expected) return;
    throw new StagedbError(
      'guard',
      'E_CONFIRM_MISMATCH',
      expected === env.name
        ? `--confirm ${input.confirmFlag} does not name the target environment (${env.name})`
        : `--confirm ${input.confirmFlag} does not name the environment this database says it is (${expected})`,
      { fix: `${retry} --confirm ${expected}` },
    );
  }
  // --force only ever skips the question on unprotected environments: it never reaches staging or production.
  if (input.force && env.protection === 'none' && action !== 'marker') return;
  if (!input.interactive) {
    throw new StagedbError('guard', 'E_CONFIRM_REQUIRED', `stagedb ${cmd} on ${env.name} (protection: ${env.protection}) needs confirmation, and there is no terminal to ask in`, {
      fix: env.protection === 'none' && action !== 'marker' ? `${retry} --force` : `${retry} --confirm ${expected}`,
    });
  }
  const ok = await input.typeToConfirm(`${input.what ? `${input.what} on` : `stagedb ${cmd} on`} ${env.name} (protection: ${env.protection}). Type "${expected}" to continue`, expected);
  if (!ok) throw new StagedbError('aborted', 'E_ABORTED', `stagedb ${cmd} on ${env.name}: aborted (not confirmed); nothing was changed`);
}

/** Shared flag definitions and help for commands the matrix can ask to confirm. */
export const CONFIRM_OPTIONS = { confirm: { type: 'string' } } as const;
export const CONFIRM_HELP = '      --confirm <env>        confirm ahead for CI: the target environment\'s name (see the protection matrix)';
