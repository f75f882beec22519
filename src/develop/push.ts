/**
 * `stagedb push` (the guide's db:push, db:push:staging): Prisma's `db push` through the WASM engine —
 * the database is brought to schema.prisma directly, without a migration.
 */
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { engineOptionsFor, refuseOnProduction, scriptOrEmpty } from './shared.js';

/** What `push` would do to an environment, computed without changing it. */
export interface PushPlan {
  /** The SQL the push would run, as Prisma renders a diff (database → schema); `''` when in sync. */
  script: string;
  /** Data-loss warnings the engine reports for this database (they depend on its rows). */
  warnings: string[];
  /** Steps the engine cannot run on this database as it is (e.g. a required column without default on a non-empty table). */
  unexecutable: string[];
  inSync: boolean;
}

export interface PushResult {
  executedSteps: number;
  /** The data-loss warnings that were accepted (empty when there were none). */
  warnings: string[];
  /** Always true when `push` returns: a refused push throws (E_DATA_LOSS, E_PUSH_UNEXECUTABLE) instead. */
  applied: boolean;
  /** Nothing to do: the database already matched the schema. */
  inSync: boolean;
}

const PRODUCTION_WHY = 'a push changes the schema without a migration, so no other environment (and no history) would ever get the change';
const productionFix = (env: string) => `change development instead and make a migration: stagedb migrate dev --name <change>, commit it, then: stagedb deploy --env ${env}`;

/**
 * The SQL a push would run and what the engine would warn about. Nothing changes: the engine runs
 * on a connection the server keeps read-only, and its dry push stops at its first change.
 */
export async function planPush(o: { env: ResolvedEnvironment; schemaPath: string }): Promise<PushPlan> {
  const { withEngine } = await import('../engine/index.js');
  return withEngine(engineOptionsFor(o.env, { schema: o.schemaPath, readOnly: true }), async (engine) => {
    const script = scriptOrEmpty(await engine.diff({ kind: 'database' }, { kind: 'schema' }));
    if (script === '') return { script, warnings: [], unexecutable: [], inSync: true };
    const dry = await engine.push({ force: false });
    return { script, warnings: dry.warnings, unexecutable: dry.unexecutable, inSync: false };
  });
}

/**
 * Pushes schema.prisma to the environment's database. With data-loss warnings and without
 * `acceptDataLoss`, or with unexecutable steps, nothing is changed and a StagedbError says why.
 * Refused on `production` environments; the CLI asks before a push to a `guarded` one.
 */
export async function push(o: { env: ResolvedEnvironment; schemaPath: string; acceptDataLoss: boolean }): Promise<PushResult> {
  const { env } = o;
  refuseOnProduction(env, 'push', PRODUCTION_WHY, productionFix(env.name));
  const { withEngine } = await import('../engine/index.js');
  return withEngine(engineOptionsFor(env, { schema: o.schemaPath }), async (engine) => {
    // Prisma's db push: try without force (the engine applies at once when nothing is lost), then force.
    const first = await engine.push({ force: false });
    if (first.unexecutable.length > 0) {
      throw new StagedbError('guard', 'E_PUSH_UNEXECUTABLE', `${env.name}: the push cannot run on this database as it is; nothing was changed`, {
        details: [...first.unexecutable, ...first.warnings],
        fix: 'give the new required field a default (@default(…)) or make it optional (?), or delete the rows it would apply to, then push again',
      });
    }
    if (first.warnings.length === 0) return { executedSteps: first.executedSteps, warnings: [], applied: true, inSync: first.executedSteps === 0 };
    if (!o.acceptDataLoss) {
      throw new StagedbError('guard', 'E_DATA_LOSS', `${env.name}: the push would lose data; nothing was changed`, {
        details: first.warnings,
        fix: `stagedb push --env ${env.name} --accept-data-loss`,
      });
    }
    const forced = await engine.push({ force: true });
    if (forced.unexecutable.length > 0) {
      throw new StagedbError('guard', 'E_PUSH_UNEXECUTABLE', `${env.name}: the push cannot run on this database as it is; nothing was changed`, {
        details: forced.unexecutable,
        fix: 'give the new required field a default (@default(…)) or make it optional (?), or delete the rows it would apply to, then push again',
      });
    }
    return { executedSteps: forced.executedSteps, warnings: forced.warnings.length > 0 ? forced.warnings : first.warnings, applied: true, inSync: false };
  });
}
