import type { AdviceReport } from '../advise/index.js';
import { EXIT } from '../exit-codes.js';
import { ENV_HELP, loadTargets } from './shared.js';
import type { Command } from './types.js';

const MARK: Record<string, string> = { critical: 'CRIT', warn: 'WARN', info: 'info' };

const command: Command = {
  usage: `Usage: stagedb advise [--env <name>|all] [--json]

Findings about a database, each with its evidence, its cost and the fix — as a change to schema.prisma
where there is one (then stagedb migrate dev writes the safe migration): relations without an index,
redundant, unused and invalid indexes, slow queries (pg_stat_statements), large tables read whole, dead
rows and tables never vacuumed, transaction-ID wraparound, connections, long and idle-in-transaction
sessions, lock waits, cache hit ratio, replica lag. Read-only; pg_monitor is enough to see everything,
and a check this role may not see says so instead of failing.
Exit code: 0 nothing to act on (notes only), 1 warnings, 2 something critical, 3 could not connect.

${ENV_HELP}`,
  options: {},
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, args, { allowAll: true });
    const { runAdvise } = await import('../advise/index.js');
    const reports = await Promise.all(names.map((env) => runAdvise({ config, env, processEnv: ctx.env })));
    const exitCode = Math.max(...reports.map((r) => (r.worst === 'critical' ? EXIT.history : r.worst === 'warn' ? 1 : EXIT.ok)));
    return { exitCode, data: { environments: reports, exitCode }, text: render(reports) };
  },
};

function render(reports: AdviceReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    if (out.length > 0) out.push('');
    const acted = r.findings.filter((f) => f.severity !== 'info').length;
    out.push(`${r.env} (${r.target}): ${r.findings.length === 0 ? 'nothing found' : `${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}${acted ? `, ${acted} to act on` : ''}`}`);
    for (const f of r.findings) {
      out.push(`  ${MARK[f.severity]}  ${f.code}  ${f.title}`);
      for (const e of f.evidence) out.push(`              ${e}`);
      out.push(`              cost: ${f.cost}`);
      out.push(`              fix:  ${f.fix}`);
    }
    const unseen = r.checks.filter((c) => c.status === 'not-visible' || c.status === 'error');
    for (const c of unseen) out.push(`  ${c.status === 'error' ? 'FAIL' : 'n/a '}  ${c.code}  ${c.name}: ${c.note}`);
  }
  return out.join('\n');
}

export default command;
