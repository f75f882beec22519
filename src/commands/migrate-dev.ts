import { relative } from 'node:path';
import { StagedbError } from '../errors.js';
import { resolveSeed } from '../config/load.js';
import { runSeed, seedsAfterReset } from '../project/seed.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';
import { lossLines } from '../render/loss.js';
import { shellQuote } from '../shell-quote.js';

const command: Command = {
  usage: `Usage: stagedb migrate dev [--name <name>] [--create-only] [--env <name>]

The guide's db:migrate: creates a migration from the changes to schema.prisma and applies it to the
development database, as Prisma's migrate dev does — with Prisma's own schema engine as WebAssembly (no
native download), and files byte for byte what the Prisma CLI writes. It first applies pending migrations;
when the database drifted from its history (or a migration failed, was edited or is missing) it explains
why and offers to reset it, then runs the seed when the project's Prisma does (Prisma 6; not Prisma 7).
Development only: refused on guarded and production
environments (create migrations here, deploy them there).

Zero-downtime by default: where Prisma's SQL would lock a live table (CREATE INDEX, a new foreign key,
optional → required, …), the migration is written as several folders that deploy with no long lock
(CONCURRENTLY alone in its folder, NOT VALID then VALIDATE, …), each change printed with its reason.
See docs/zero-downtime.md.

      --name <name>          the migration's name (e.g. add_posts); asked for in a terminal
      --create-only          write the migration without applying it
      --prisma-sql           write Prisma's SQL as it is, not zero-downtime steps (config: zeroDowntime: false)
      --accept-data-loss     go on when the new migration would drop data (asked in a terminal)
      --skip-seed            do not run the seed after a reset
${ENV_HELP}`,
  options: { name: { type: 'string', short: 'n' }, 'create-only': { type: 'boolean' }, 'prisma-sql': { type: 'boolean' }, 'accept-data-loss': { type: 'boolean' }, 'skip-seed': { type: 'boolean' } },
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    await baselineWasmOnly();
    const { migrateDev, problemLines, resetAlternatives } = await import('../develop/migrate-dev.js');
    const { schemaList } = await import('../develop/shared.js');
    const acceptDataLoss = Boolean(args.values['accept-data-loss']);
    const result = await runGuarded(ctx, {
      action: 'migrate-dev',
      command: `migrate dev --env ${env.name}${args.values.name ? ` --name ${String(args.values.name)}` : ''}`,
      env,
      config,
      args,
      run: async () => {
        const r = await migrateDev({
          env,
          schemaPath: config.schemaPath,
          migrationsDir: config.migrationsDir,
          name: args.values.name as string | undefined,
          createOnly: Boolean(args.values['create-only']),
          zeroDowntime: !args.values['prisma-sql'] && config.zeroDowntime !== false,
          askName: () => ctx.ask('Name of the new migration', 'e.g. add_posts'),
          confirmReset: async (problems, schemas) => {
            if (!ctx.interactive) {
              throw new StagedbError('aborted', 'E_RESET_NEEDED', `${env.name}: the database must be reset before a migration can be created; without a terminal stagedb does not reset it`, {
                details: problemLines(problems, env.name),
                fix: resetAlternatives(problems, env.name, config.migrationsDir, `stagedb migrate reset --env ${env.name} --force, then: stagedb migrate dev`),
              });
            }
            for (const line of problemLines(problems, env.name)) ctx.log(`  ${line}`);
            const { describeLoss } = await import('../develop/reset.js');
            for (const line of lossLines(env.name, await describeLoss(env, { schemaPath: config.schemaPath }))) ctx.log(line);
            return ctx.confirm(`${env.name}: reset the database? Every row in ${schemaList(schemas)} will be lost`);
          },
          confirmDataLoss: async (warnings) => {
            for (const w of warnings) ctx.warn(`${env.name}: data loss: ${w}`);
            if (acceptDataLoss) return true;
            if (!ctx.interactive) {
              throw new StagedbError('guard', 'E_DATA_LOSS', `${env.name}: the new migration would lose data (above); nothing was written`, {
                fix: `stagedb migrate dev --env ${env.name} --accept-data-loss${args.values.name ? ` --name ${shellQuote(String(args.values.name))}` : ''}`,
              });
            }
            return ctx.confirm(`${env.name}: create and apply it anyway?`);
          },
          onEvent: (e) => {
            if (e.type === 'reset') ctx.log(`${env.name}: reset ${schemaList(e.schemas as string[])}`);
            else if (e.type === 'apply-done') ctx.log(`  applied  ${String(e.name)}`);
            else if (e.type === 'created') ctx.log(`${env.name}: created ${relative(ctx.cwd, String(e.path)) || String(e.path)}`);
            else if (e.type === 'zero-downtime') {
              const z = e as unknown as { changes: Array<{ code: string; message: string; why: string }>; unsafe: Array<{ code: string; message: string; plan: string }>; folders: string[] };
              if (z.changes.length) ctx.log(`${env.name}: zero-downtime: Prisma's migration becomes ${z.folders.length} folder${z.folders.length === 1 ? '' : 's'} (--prisma-sql keeps Prisma's SQL):`);
              for (const c of z.changes) ctx.log(`  ${c.code} ${c.message}\n         why: ${c.why}`);
              for (const u of z.unsafe) ctx.warn(`${env.name}: ${u.code} not made safe: ${u.message}\n  plan: ${u.plan}`);
            } else if (e.type === 'lock-file') ctx.log(`${env.name}: wrote ${relative(ctx.cwd, String(e.path))}`);
          },
        });
        const summary = r.created ? `created ${r.created.directoryName}${r.applied.length ? `, applied ${r.applied.join(', ')}` : ''}${r.reset ? ' after a reset' : ''}` : r.inSync ? 'schema in sync: nothing to create' : `applied ${r.applied.join(', ')}`;
        return { value: r, summary };
      },
    });
    let seeded = false;
    const seed = result.reset && !args.values['skip-seed'] ? await resolveSeed(config) : undefined;
    if (seed && seedsAfterReset(config)) {
      ctx.log(`${env.name}: the database was reset: running seed \`${seed}\``);
      await runSeed({ env, command: seed, root: config.root, processEnv: ctx.env, onLine: (l) => ctx.log(`  ${l}`) });
      seeded = true;
    } else if (seed) {
      ctx.log(`${env.name}: the database was reset and not seeded: Prisma ${config.prisma?.major} does not seed after a reset; to seed: stagedb seed --env ${env.name}`);
    }
    const made = result.steps ? `${result.steps.length} zero-downtime migrations, ${result.steps[0]!.directoryName} … ${result.steps.at(-1)!.directoryName}` : result.created?.directoryName;
    const text = result.created
      ? `${env.name}: ${args.values['create-only'] ? 'created' : 'created and applied'} ${made}${seeded ? ' (database reset and seeded)' : ''}.`
      : result.inSync
        ? `${env.name}: schema.prisma matches the migrations; nothing to create${result.applied.length ? ` (applied ${result.applied.length} pending)` : ''}.`
        : `${env.name}: applied ${result.applied.length} pending migration${result.applied.length === 1 ? '' : 's'}.`;
    return { exitCode: 0, data: { env: env.name, ...result, seeded }, text };
  },
};

export default command;
