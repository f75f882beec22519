import type { DeployEvent } from '../deploy/index.js';
import type { DeployEvent as ApplyEvent } from '../history/deploy.js';
import { findingLine } from '../lint/format.js';
import { formatBytes, formatDuration } from '../format.js';
import { shown } from './path.js';

/** Prints one of deploy's events as it happens: warnings on stderr, the rest as progress lines. */
export function renderDeployEvent(ctx: { cwd: string; log(line: string): void; warn(line: string): void }, e: DeployEvent): void {
  switch (e.type) {
    case 'warning':
      return ctx.warn(e.message);
    case 'lint-gate': {
      const g = e.gate;
      if (g.pending.length > 0) {
        ctx.log(`${e.env}: ${g.summary}`);
        for (const f of g.result.findings) if (f.severity !== 'info') ctx.log(`  ${findingLine(f)}`);
      }
      if (g.overridden) ctx.warn(`${e.env}: deploying despite ${g.result.counts.error} error-level lint hazard${g.result.counts.error === 1 ? '' : 's'} (--allow-hazards: ${e.allowHazards!.trim()})`);
      return;
    }
    case 'backup-plan':
      return ctx.log(`${e.env}: backup before deploy (backupBeforeDeploy): pg_dump ${e.pgDumpVersion}, ${formatBytes(e.databaseBytes)} → ${shown(ctx.cwd, e.location)}`);
    case 'backup-note':
      return ctx.log(e.message);
    case 'backup-taken':
      return ctx.log(`${e.env}: backup ${e.id} taken (${formatBytes(e.size)}, ${formatDuration(e.durationMs)}): the restore point if this deploy goes wrong`);
  }
  const line = eventLine(e);
  if (line) ctx.log(line);
}

function eventLine(e: ApplyEvent): string | undefined {
  switch (e.type) {
    case 'lock-wait':
      return `${e.env}: waiting for the deploy lock held by ${e.holder ? `pid ${e.holder.pid} (${e.holder.applicationName || 'unnamed'})` : 'another session'}…`;
    case 'created-table':
      return `${e.env}: created _prisma_migrations`;
    case 'connected':
      return `${e.env}: PostgreSQL ${e.serverVersion.split(' ')[0]}, ${e.pending} pending migration${e.pending === 1 ? '' : 's'}`;
    // One line per migration; a file that does not run as one transaction also says how it runs, before it starts.
    case 'apply-start':
      return e.mode === 'transaction' ? undefined : `  applying ${e.name} [${e.reason}]`;
    case 'retry':
      return `  retrying ${e.name}: its attempt started ${e.startedAt.toISOString()} failed with nothing committed`;
    case 'apply-done':
      return `  applied  ${e.name} (${Math.round(e.ms)} ms)`;
    case 'invalid-index-dropped':
      return `  dropped  ${e.index}: an invalid index left by an interrupted build, before ${e.name} builds it again`;
    case 'index-progress': {
      const pct = e.blocksTotal > 0 ? ` ${Math.floor((100 * e.blocksDone) / e.blocksTotal)}% of ${e.blocksTotal} blocks` : e.tuplesTotal > 0 ? ` ${Math.floor((100 * e.tuplesDone) / e.tuplesTotal)}% of ${e.tuplesTotal} rows` : '';
      return `  building ${e.index ?? 'index'} (${e.name}): ${e.phase}${pct}, ${(e.elapsedMs / 1000).toFixed(0)} s`;
    }
    case 'lock-retry': {
      const b = e.blocker;
      const who = b ? `, held by pid ${b.pid} (${b.applicationName || 'unnamed'}, ${b.state ?? 'unknown state'}) on ${b.relation}` : '';
      const what = e.cause === 'deadlock' ? 'a deadlock with another session rolled it back' : `a lock wait hit lock_timeout (${e.lockTimeoutMs} ms)`;
      return `  waiting  ${e.name}: ${what}${who}; retry ${e.attempt} of ${e.of} in ${(e.waitMs / 1000).toFixed(1)} s`;
    }
  }
}
