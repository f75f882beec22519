import { fixCommand, partialAdvice } from '../history/fix.js';
import { describeProgress } from '../history/progress.js';
import { splitStatements } from '../history/split.js';
import type { EnvStatus } from '../history/status.js';
import { ago, columns } from './table.js';

/** `stagedb status`: the table, each environment's details, and the --json data. */

const STATE_WORDS: Record<EnvStatus['state'], string> = {
  'up-to-date': 'up to date',
  pending: 'pending',
  blocked: 'BLOCKED',
  error: 'ERROR',
  'not-configured': 'not configured',
};

/** The --json data: every environment's state, what is pending, failed, modified or missing, and drift. */
export function statusData(migrationsDir: string, localMigrations: number, results: EnvStatus[], drift: Map<string, DriftOutcome>, exitCode: number) {
  return {
    migrationsDir,
    localMigrations,
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
  };
}

/** One environment's drift check (`--drift`): `checked: false` with the reason when it could not run. */
export interface DriftOutcome {
  checked: boolean;
  drifted?: boolean;
  report?: import('../develop/diff.js').DriftReport;
  error?: { code: string; message: string; fix?: string };
}

/** `drift` is undefined when --drift was not asked for: there is no DRIFT column then, and a line says so. */
export function renderStatus(results: EnvStatus[], localCount: number, drift: Map<string, DriftOutcome> | undefined, migrationsDir: string): string {
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
    const lines = environmentLines(r, drift?.get(r.env), migrationsDir);
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

/** The lines under one environment's heading: its error, each migration that is not simply applied, drift. */
function environmentLines(r: EnvStatus, d: DriftOutcome | undefined, migrationsDir: string): string[] {
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
  return lines;
}
