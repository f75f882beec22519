import { StagedbError } from '../../errors.js';
import { execCapture } from '../../pg/exec.js';
import { findPgTool, majorOf, parsePgVersion } from '../../pg/find-binaries.js';
import type { DoctorCheck } from '../types.js';

/** DOC012: the pg_dump on this machine can dump this server: its major version must be >= the server's. */
export const pgDumpVersion: DoctorCheck = {
  code: 'DOC012',
  name: 'pg-dump-version',
  requires: ['DOC008'],
  async run(s) {
    const serverMajor = Math.floor((s.serverVersionNum ?? 0) / 10000);
    let tool: string;
    try {
      tool = await findPgTool('pg_dump', { env: s.processEnv });
    } catch (e) {
      if (!(e instanceof StagedbError)) throw e;
      return { status: 'warn', detail: `pg_dump not found: stagedb backup cannot run on this machine (server is PostgreSQL ${serverMajor})`, fix: `apt-get install postgresql-client-${serverMajor}   (or set STAGEDB_PG_BIN to a PostgreSQL ${serverMajor}+ bin directory)` };
    }
    const out = await execCapture(tool, ['--version'], { timeoutMs: 10_000 }).catch(() => undefined);
    const version = out && out.code === 0 ? parsePgVersion(out.stdout) : undefined;
    if (!version) return { status: 'warn', detail: `${tool} --version did not say its version`, fix: 'reinstall the PostgreSQL client tools' };
    const major = majorOf(version);
    if (major < serverMajor) {
      return {
        status: 'fail',
        detail: `pg_dump ${version} (${tool}) is older than the server (PostgreSQL ${s.serverVersion?.split(' ')[0]}): pg_dump refuses to dump a newer server`,
        fix: `install pg_dump ${serverMajor} or newer: apt-get install postgresql-client-${serverMajor} (or set STAGEDB_PG_BIN to its bin directory)`,
      };
    }
    return { status: 'ok', detail: `pg_dump ${version} >= server ${s.serverVersion?.split(' ')[0]} (${tool})` };
  },
};
