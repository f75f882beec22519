import { join } from 'node:path';
import { devUp, upsertEnvVar } from '../local-db/server.js';
import { usageError } from '../errors.js';
import { projectRoot } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb dev up [--port <n>] [--db <name>]... [--write-env [file]]

Starts the project-local PostgreSQL (initialised on first use under .stagedb/pg/, loopback only,
password authentication). Uses the machine's PostgreSQL binaries (e.g. /usr/lib/postgresql/*/bin;
set STAGEDB_PG_BIN to choose) and works as root (the server runs as the postgres OS user).

      --port <n>          port on 127.0.0.1 (default: the last one used, else a free one)
      --db <name>         create this database if missing (repeatable)
      --write-env         create database "development" and set DATABASE_URL in .env to it
                          (the URL holds the generated password, so it is written, never printed)
      --json              machine-readable output`,
  options: { port: { type: 'string' }, db: { type: 'string', multiple: true }, 'write-env': { type: 'boolean' } },
  async run(ctx, args) {
    const port = args.values.port === undefined ? undefined : Number(args.values.port);
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
      throw usageError('E_USAGE', `--port must be a TCP port number, not "${args.values.port}"`, 'e.g. stagedb dev up --port 54329');
    }
    const root = projectRoot(ctx, args);
    const databases = [...((args.values.db as string[] | undefined) ?? [])];
    const writeEnv = Boolean(args.values['write-env']);
    if (writeEnv && !databases.includes('development')) databases.push('development');
    const r = await devUp(root, { port, databases });
    const lines = [`PostgreSQL ${r.version} running on ${r.host}:${r.port} (data: ${r.dataDir})`];
    for (const db of r.created) lines.push(`  created database ${db}`);
    for (const db of r.existing) lines.push(`  database ${db} exists`);
    if (writeEnv) {
      const file = join(root, '.env');
      const what = upsertEnvVar(file, 'DATABASE_URL', r.urls.development!);
      lines.push(`  DATABASE_URL ${what} in ${file} → postgresql://${r.user}:****@${r.host}:${r.port}/development`);
    } else {
      lines.push(`  connect: postgresql://${r.user}:****@${r.host}:${r.port}/<database>  (stagedb dev up --write-env puts the full URL in .env)`);
    }
    const { cluster: _c, urls: _u, ...data } = r;
    return { exitCode: 0, data, text: lines.join('\n') };
  },
};

export default command;
