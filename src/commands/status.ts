import { relative } from 'node:path';
import { ago, columns } from '../render/table.js';
import { EXIT } from '../exit-codes.js';
import { StagedbError } from '../errors.js';
import { fixCommand, partialAdvice } from '../history/fix.js';
import { readLocalHistory } from '../history/local.js';
import { describeProgress } from '../history/progress.js';
import { splitStatements } from '../history/split.js';
import { environmentStatus, type EnvStatus } from '../history/status.js';
import { redact } from '../redact.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { environmentsSharingDatabase, sameDatabaseError } from '../config/same-database.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';
import { shellQuote } from '../shell-quote.js';

const STATE_WORDS: Record<EnvStatus['state'], string> = {
  'up-to-date': 'up to date',
  pending: 'pending',
  blocked: 'BLOCKED',
  error: 'ERROR',
  'not-configured': 'not configured',
};

/** Resolution errors that mean "no URL of its own yet", not "a URL that is wrong". */
const NOT_CONFIGURED = new Set(['E_ENV_VAR_MISSING', 'E_ENV_FILE_MISSING']);

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
    // The folder is read (and every file hashed) once the first environment's query is on its way, so
    // that it overlaps the servers' work; a problem with it still fails the whole command, as before.
    let folder: { local?: ReturnType<typeof readLocalHistory>; error?: unknown } | undefined;
    const readFolder = () => {
      folder ??= (() => {
        try {
          return { local: readLocalHistory(config.migrationsDir, ctx.cwd) };
        } catch (error) {
          return { error };
        }
      })();
      if (folder.error !== undefined) throw folder.error;
      return folder.local!;
    };
    const resolved = new Map<string, ResolvedEnvironment>();
    // With an empty drift cache every check replays: each server's temporary database is made while the histories are read.
    const ahead = args.values.drift ? (await import('../develop/drift-cache.js')).shadowsAhead(config.root) : undefined;
    let results: EnvStatus[];
    let local: ReturnType<typeof readLocalHistory>;
    const drift = new Map<string, DriftOutcome>();
    try {
      results = await Promise.all(
        names.map(async (name): Promise<EnvStatus> => {
          try {
            const env = resolveOne(ctx, config, name);
            const others = environmentsSharingDatabase(config, env, ctx.env);
            if (others.length > 0) throw sameDatabaseError(env, others);
            resolved.set(name, env);
            ahead?.reserve(env);
            return await environmentStatus(env, readFolder);
          } catch (e) {
            if (!(e instanceof StagedbError)) throw e;
            return {
              env: name,
              protection: '',
              target: '',
              directSource: '',
              state: NOT_CONFIGURED.has(e.code) ? 'not-configured' : 'error',
              error: { code: e.code, message: redact(e.message), fix: e.fix },
              ms: 0,
            };
          }
        }),
      );
      local = readFolder();
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
      data: {
        migrationsDir: config.migrationsDir,
        localMigrations: local.migrations.length,
        environments: results.map((r) => ({
          env: r.env,
          protection: r.protection,
          target: r.target,
          connection: r.directSource,
          serverVersion: r.serverVersion,
          state: r.state,
          applied: r.history?.applied,
          pending: r.history?.entries
            .filter((e) => e.state === 'pending')
            .map((e) => ({ name: e.name, outOfOrder: !!e.outOfOrder, ...(e.retry ? { retry: { failedAttemptStartedAt: e.retry.startedAt } } : {}) })),
          failed: r.history?.failed.map((e) => ({ name: e.name, startedAt: e.startedAt, logs: e.logs, ...(e.progress ? { progress: e.progress } : {}) })),
          modified: r.history?.modified.map((e) => e.name),
          missingLocally: r.history?.missingLocally.map((e) => e.name),
          lastApplied: r.history?.lastApplied ? { name: r.history.lastApplied.name, finishedAt: r.history.lastApplied.finishedAt } : undefined,
          error: r.error,
          drift: drift.get(r.env),
        })),
        exitCode,
      },
      text: render(results, local.migrations.length, args.values.drift ? drift : undefined, relative(ctx.cwd, config.migrationsDir) || '.'),
    };
  },
};

/** One environment's drift check (`--drift`): `checked: false` with the reason when it could not run. */
interface DriftOutcome {
  checked: boolean;
  drifted?: boolean;
  report?: import('../develop/diff.js').DriftReport;
  error?: { code: string; message: string; fix?: string };
}

/** `drift` is undefined when --drift was not asked for: there is no DRIFT column then, and a line says so. */
function render(results: EnvStatus[], localCount: number, drift: Map<string, DriftOutcome> | undefined, migrationsDir: string): string {
  const driftCell = (env: string) => {
    const d = drift?.get(env);
    return !d ? '-' : !d.checked ? 'NOT CHECKED' : d.drifted ? 'yes' : 'no';
  };
  const rows = results.map((r) => [
    r.env,
    r.protection,
    STATE_WORDS[r.state],
    r.history ? String(r.history.applied) : '-',
    r.history ? String(r.history.pending) : '-',
    r.history ? String(r.history.failed.length) : '-',
    r.history ? String(r.history.modified.length + r.history.missingLocally.length) : '-',
    ...(drift ? [driftCell(r.env)] : []),
    r.history?.lastApplied ? `${r.history.lastApplied.name} (${ago(r.history.lastApplied.finishedAt)})` : r.history ? '(none)' : '-',
    r.serverVersion ? `PostgreSQL ${r.serverVersion.split(' ')[0]}` : '-',
  ]);
  // MODIFIED/MISSING: applied migrations whose file changed or is gone from the folder (the history's
  // own differences); DRIFT: the database's differences from what its migrations produce.
  const header = ['ENVIRONMENT', 'PROTECTION', 'STATE', 'APPLIED', 'PENDING', 'FAILED', 'MODIFIED/MISSING', ...(drift ? ['DRIFT'] : []), 'LAST APPLIED', 'SERVER'];
  const out = [columns(header, rows), '', `${localCount} migration${localCount === 1 ? '' : 's'} in the folder.`];
  // Plain status reads the history only (fast, no engine): say so rather than let "up to date" read as "no drift".
  if (!drift && results.some((r) => r.state !== 'error')) out.push('History only: drift not checked (changes made outside the migrations): stagedb status --drift');
  for (const r of results) {
    const lines: string[] = [];
    if (r.error) {
      lines.push(`  error: ${r.error.message}`);
      if (r.error.fix) lines.push(`  fix: ${r.error.fix}`);
    }
    const h = r.history;
    if (h) {
      for (const e of h.entries) {
        if (e.state === 'pending') {
          const notes = [
            ...(e.outOfOrder ? ['out of order: sorts before the newest applied migration'] : []),
            ...(e.retry ? [`its attempt started ${e.retry.startedAt.toISOString()} failed with nothing committed: deploy runs it again`] : []),
          ];
          lines.push(`  pending   ${e.name}${notes.length > 0 ? `  (${notes.join('; ')})` : ''}`);
        }
        if (e.state === 'failed') {
          lines.push(`  FAILED    ${e.name}${e.startedAt ? ` (started ${e.startedAt.toISOString()})` : ''}`);
          // Prisma's logs (and ours) start with "Database error code: …": the ERROR line says what went wrong.
          const logLines = e.logs?.trim().split('\n') ?? [];
          const first = logLines.find((l) => l.startsWith('ERROR')) ?? logLines.find((l) => l.trim().length > 0 && !l.startsWith('stagedb'));
          if (first) lines.push(`            ${first}`);
          if (e.progress) lines.push(`            committed: ${describeProgress(e.progress, e.local ? splitStatements(e.local.script) : undefined, e.local?.script)}`);
          lines.push(`            fix: ${partialAdvice({ name: r.env, directSource: r.directSource, directUrl: '' }, e.name, e.progress)}`);
        }
        if (e.state === 'modified') lines.push(`  MODIFIED  ${e.name}  (migration.sql changed after it was applied: restore it from git)`);
        if (e.state === 'missing-locally') lines.push(`  MISSING   ${e.name}  (applied here, but not in the migrations folder: pull the branch that added it)`);
      }
      // The command that works: deploy refuses an out-of-order migration without --allow-out-of-order.
      if (r.state === 'pending') {
        const outOfOrder = h.outOfOrder.length > 0;
        lines.push(`  apply with: ${fixCommand({ name: r.env, directSource: r.directSource, directUrl: '' }, ...(r.env === 'development' ? ['migrate', 'deploy'] : ['deploy']), ...(outOfOrder ? ['--allow-out-of-order'] : []))}${outOfOrder ? '   (once you have checked that the out-of-order migrations do not depend on later ones)' : ''}`);
      }
    }
    const d = drift?.get(r.env);
    if (d?.error) lines.push(`  DRIFT NOT CHECKED: ${d.error.message}`, ...(d.error.fix ? [`  fix: ${d.error.fix}`] : []));
    if (d?.report) {
      const sql = (text: string) => text.trim().split('\n').filter((l) => l.trim() && !l.startsWith('--')).map((l) => `      ${l}`);
      if (d.report.drifted) {
        lines.push(
          '  DRIFT     the database differs from what its applied migrations produce (changes made outside them):',
          ...sql(d.report.migrationsToDatabase),
          ...driftNextSteps(r.env, migrationsDir),
        );
      } else lines.push('  no drift  the database is what its applied migrations produce');
      if (d.report.databaseToSchema) lines.push(`  schema.prisma differs from this database: ${sql(d.report.databaseToSchema).length} SQL line(s) (stagedb migrate diff --from env:${r.env} --to schema)`);
    }
    if (lines.length > 0) out.push('', `${r.env} (${r.target || (r.state === 'not-configured' ? 'not configured' : 'not resolved')}${r.directSource ? `, via ${r.directSource}` : ''}):`, ...lines);
  }
  return out.join('\n');
}

/** What to do about drift: see it, keep it as a migration, or undo it. */
function driftNextSteps(env: string, migrationsDir: string): string[] {
  return [
    `  next:     see it as SQL: stagedb migrate diff --from migrations --to env:${env}`,
    `            keep it: save that SQL as ${migrationsDir}/<timestamp>_<name>/migration.sql (mkdir the folder first), add the change to schema.prisma,`,
    `                     then record it as applied here: stagedb migrate resolve --applied <timestamp>_<name> --env ${env}`,
    `            undo it: revert the change by hand${env === 'development' ? ', or drop everything: stagedb migrate reset --env development' : ''}`,
  ];
}

export default command;
