import { relative } from 'node:path';
import { renderStatus, statusData, type DriftOutcome } from '../render/status.js';
import { EXIT } from '../exit-codes.js';
import { StagedbError } from '../errors.js';
import { environmentsStatus } from '../history/status-all.js';
import { redact } from '../redact.js';
import { ENV_HELP, loadTargets } from './shared.js';
import type { Command } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';

const command: Command = {
  usage: `Usage: stagedb status [--env <name>|all] [--json]

Compares the migrations folder with _prisma_migrations in each environment (concurrently for --env all).
It reads the history only: changes made to a database outside its migrations (drift) need --drift.
Exit code: 0 up to date, 1 pending, 2 failed/modified/missing migrations, 3 config or connection error
(the worst environment decides). Under --env all, an environment with no URL of its own yet shows as
"not configured" (with the variable to set) without failing the others; named alone, it exits 3.

      --drift   also compare each live database with what its applied migrations produce (replayed
                on a temporary shadow database: needs CREATEDB, or shadowDatabaseUrl) and with
                schema.prisma, and print the SQL of each difference; drift exits 2, and drift that
                could not be checked exits 3 (never 0: not checked is not clean); answered from
                .stagedb/drift-cache/ while the applied migrations, schema.prisma and the database are unchanged
${ENV_HELP}`,
  options: { drift: { type: 'boolean' } },
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args, { allowAll: true });
    // With an empty drift cache every check replays: each server's temporary database is made while the histories are read.
    const ahead = args.values.drift ? (await import('../develop/drift-cache.js')).shadowsAhead(config.root) : undefined;
    const drift = new Map<string, DriftOutcome>();
    let status: Awaited<ReturnType<typeof environmentsStatus>>;
    try {
      status = await environmentsStatus(config, names, { cwd: ctx.cwd, processEnv: ctx.env, onWarning: (w) => ctx.warn(w), onResolved: (env) => ahead?.reserve(env) });
      const { results, resolved, local } = status;
      // Drift needs Prisma's schema engine (and a shadow database): only on request, loaded only then.
      if (args.values.drift) {
        await baselineWasmOnly();
        // Answered from .stagedb/drift-cache/ while the applied migrations, schema.prisma and the database are unchanged.
        const { detectDriftCached } = await import('../develop/drift-cache.js');
        await Promise.all(
          results.map(async (r) => {
            if (r.state === 'error' || r.state === 'not-configured') return;
            try {
              // The applied list as the drift check would read it (appliedForDrift), from the history just read: no second read.
              const applied = r.history?.entries.filter((e) => (e.state === 'applied' || e.state === 'modified') && e.local).map((e) => e.name);
              const report = await detectDriftCached({ env: resolved.get(r.env)!, schemaPath: config.schemaPath, migrationsDir: config.migrationsDir, root: config.root, local: local.migrations, applied });
              drift.set(r.env, { checked: true, drifted: report.drifted, report });
              if (report.drifted) r.state = 'blocked';
            } catch (e) {
              if (!(e instanceof StagedbError)) throw e;
              drift.set(r.env, { checked: false, error: { code: e.code, message: redact(e.message), fix: e.fix } });
            }
          }),
        );
      }
    } finally {
      // Made ahead and not taken (an environment that failed, a check that hit): dropped before anything is printed.
      await ahead?.release();
    }
    const { results, local } = status;
    // An environment not configured yet (production in a new project) does not fail the others'
    // status under --env all; named on its own, it is the config error it is. A drift check that could
    // not run (no CREATEDB and no shadowDatabaseUrl, …) exits 3 like any config error: a CI gate on
    // `status --drift` must not pass without having checked.
    const exitCode = Math.max(
      ...results.map((r) =>
        r.state === 'error' || (r.state === 'not-configured' && names.length === 1)
          ? EXIT.config
          : r.state === 'blocked'
            ? EXIT.history
            : r.state === 'pending'
              ? EXIT.pending
              : EXIT.ok,
      ),
      ...[...drift.values()].map((d) => (d.checked ? EXIT.ok : EXIT.config)),
    );
    return {
      exitCode,
      data: statusData(config.migrationsDir, local.migrations.length, results, drift, exitCode),
      text: renderStatus(results, local.migrations.length, args.values.drift ? drift : undefined, relative(ctx.cwd, config.migrationsDir) || '.'),
    };
  },
};

export default command;
