import { readAudit } from '../guard/audit.js';
import { columns } from '../render/table.js';
import { usageError } from '../errors.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb history [--env <name>] [--limit <n>]

The audit trail of an environment, newest first: who (OS user, git author, CI job), what, when, the
outcome and how long it took, for every mutating stagedb command (deploy, migrate resolve, seed, push,
migrate dev, migrate reset, …). Kept in the table stagedb.audit_log of the target database, and for
development also in .stagedb/audit.jsonl.

      --limit <n>   how many records (default 20)
${ENV_HELP}`,
  options: { limit: { type: 'string' } },
  async run(ctx, args) {
    const limit = args.values.limit === undefined ? 20 : Number(args.values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw usageError('E_USAGE', `--limit must be a positive whole number, not "${args.values.limit}"`, 'stagedb history --limit 50');
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!);
    const { rows } = await readAudit({ env, root: config.root, limit });
    const text =
      rows.length === 0
        ? `${env.name}: no audit records yet`
        : columns(
            ['WHEN', 'OUTCOME', 'COMMAND', 'WHO', 'TOOK', 'SUMMARY'],
            rows.map((r) => [
              r.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
              r.outcome,
              r.command,
              [r.gitAuthor ?? r.osUser, r.ci].filter(Boolean).join(' via '),
              `${(r.durationMs / 1000).toFixed(1)}s`,
              r.summary.length > 80 ? `${r.summary.slice(0, 79)}…` : r.summary,
            ]),
          );
    return { exitCode: 0, data: { env: env.name, records: rows }, text };
  },
};

export default command;
