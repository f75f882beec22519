import { EXIT } from '../exit-codes.js';
import type { DoctorReport } from '../doctor/index.js';
import { usageError } from '../errors.js';
import { ENV_HELP, loadTargets } from './shared.js';
import type { Command } from './types.js';

const WORD: Record<string, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

const command: Command = {
  usage: `Usage: stagedb doctor [--env <name>|all] [--timeout <seconds>] [--json]

Runs the troubleshooting checklist on an environment (every environment, concurrently, with --env all):
env vars and files, the URL and its kind, DNS, TCP, TLS, authentication, the database, privileges for
migrate / backup / studio, pg_dump vs server version, _prisma_migrations, connection headroom.
Each check has a stable code (DOC001…DOC014) and prints ok, WARN or FAIL with the fix; a check whose
prerequisite failed is skipped.
Exit code: 0 every check ok, 1 warnings only, 3 any check failed.

      --timeout <s>   DNS, TCP and connect timeout in seconds (default 5)
${ENV_HELP}`,
  options: { timeout: { type: 'string' } },
  async run(ctx, args) {
    const raw = args.values.timeout as string | undefined;
    const seconds = raw === undefined ? 5 : Number(raw);
    if (!Number.isFinite(seconds) || seconds <= 0) throw usageError('E_USAGE', `--timeout must be a positive number of seconds, not "${raw}"`, 'stagedb doctor --timeout 5');
    const { config, names } = await loadTargets(ctx, args, { allowAll: true });
    const { runDoctor } = await import('../doctor/index.js');
    const reports = await Promise.all(names.map((env) => runDoctor({ config, env, processEnv: ctx.env, timeoutMs: seconds * 1000 })));
    const exitCode = Math.max(...reports.map((r) => (r.status === 'fail' ? EXIT.config : r.status === 'warn' ? 1 : EXIT.ok)));
    return { exitCode, data: { environments: reports, exitCode }, text: render(reports) };
  },
};

function render(reports: DoctorReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    if (out.length > 0) out.push('');
    out.push(`${r.env}${r.target ? ` (${r.target})` : ''}: ${r.status === 'ok' ? 'all checks passed' : r.status === 'warn' ? 'warnings' : 'FAILED'}`);
    const width = Math.max(...r.checks.map((c) => c.name.length));
    for (const c of r.checks) {
      out.push(`  ${WORD[c.status]}  ${c.code}  ${c.name.padEnd(width)}  ${c.detail}`);
      if (c.fix && (c.status === 'warn' || c.status === 'fail')) out.push(`${' '.repeat(width + 18)}fix: ${c.fix}`);
    }
  }
  return out.join('\n');
}

export default command;
