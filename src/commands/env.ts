import { columns } from '../render/table.js';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';
import { environmentsSharingDatabase, sameDatabaseError } from '../config/same-database.js';
import { ENV_HELP, loadTargets, resolveOne } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb env [--env <name>|all]

Shows how each environment resolves: protection, which URL DDL uses and where it came from, the
application URL's kind (direct, pooler, Accelerate), how Studio opens it, its read replicas and the
env files read. Passwords are masked. Two environments that reach the same database, and guarded or
production ones whose URL is only in the shared .env ("not configured"), are errors (exit 3).
Without --env, shows all.

${ENV_HELP}`,
  options: {},
  async run(ctx, args) {
    const { config, names } = await loadTargets(ctx, { ...args, values: { ...args.values, env: args.values.env ?? 'all' } }, { allowAll: true });
    const rows = names.map((name) => {
      try {
        const e = resolveOne(ctx, config, name);
        const others = environmentsSharingDatabase(config, e, ctx.env);
        if (others.length > 0) throw sameDatabaseError(e, others);
        return {
          env: name,
          protection: e.protection,
          direct: redact(e.directUrl),
          directSource: e.directSource,
          urlKind: e.urlInfo?.kind ?? '-',
          studio: e.studio.mode,
          replicas: e.replicas.map(redact),
          envFiles: e.envFiles,
        };
      } catch (err) {
        if (!(err instanceof StagedbError)) throw err;
        return { env: name, error: err.message, fix: err.fix };
      }
    });
    const text = [
      `config: ${config.configFile ?? '(none: plain Prisma project)'}`,
      `schema: ${config.schemaPath}`,
      `migrations: ${config.migrationsDir}`,
      ...(config.prisma ? [`prisma: ${config.prisma.major} (${config.prisma.why}): ${config.prisma.seedsAfterReset ? 'migrate reset and migrate dev seed after a reset' : 'no seed after a reset (stagedb seed runs it)'}`] : []),
      '',
      columns(
        ['ENVIRONMENT', 'PROTECTION', 'APP URL', 'REPLICAS', 'STUDIO', 'DDL URL', 'FROM'],
        rows.map((r) =>
          'error' in r ? [r.env, '', '', '', '', `error: ${r.error}`, ''] : [r.env, r.protection, r.urlKind, String(r.replicas.length), r.studio, r.direct, r.directSource],
        ),
      ),
    ].join('\n');
    const bad = rows.some((r) => 'error' in r);
    return { exitCode: bad ? 3 : 0, data: { configFile: config.configFile, schema: config.schemaPath, migrations: config.migrationsDir, prisma: config.prisma, environments: rows }, text };
  },
};

export default command;
