import { chooseTool, surveyTool } from '../../backup/tools.js';
import type { DoctorCheck } from '../types.js';

/**
 * DOC012: the pg_dump on this machine can dump this server: its major version must be >= the server's.
 * Judged on the copy `stagedb backup` would run (backup/tools.ts: the same search, the same choice).
 */
export const pgDumpVersion: DoctorCheck = {
  code: 'DOC012',
  name: 'pg-dump-version',
  requires: ['DOC008'],
  async run(s) {
    const serverMajor = Math.floor((s.serverVersionNum ?? 0) / 10000);
    const { paths, found } = await surveyTool('pg_dump', { env: s.processEnv });
    if (paths.length === 0) {
      return { status: 'warn', detail: `pg_dump not found: stagedb backup cannot run on this machine (server is PostgreSQL ${serverMajor})`, fix: `apt-get install postgresql-client-${serverMajor}   (or set STAGEDB_PG_BIN to a PostgreSQL ${serverMajor}+ bin directory)` };
    }
    if (found.length === 0) return { status: 'warn', detail: `${paths[0]} --version did not say its version`, fix: 'reinstall the PostgreSQL client tools' };
    const chosen = chooseTool(found, serverMajor);
    if (!chosen) {
      const newest = [...found].sort((a, b) => b.major - a.major)[0]!;
      return {
        status: 'fail',
        detail: `pg_dump ${newest.version} (${newest.path}) is older than the server (PostgreSQL ${s.serverVersion?.split(' ')[0]}): pg_dump refuses to dump a newer server`,
        fix: `install pg_dump ${serverMajor} or newer: apt-get install postgresql-client-${serverMajor} (or set STAGEDB_PG_BIN to its bin directory)`,
      };
    }
    return { status: 'ok', detail: `pg_dump ${chosen.version} >= server ${s.serverVersion?.split(' ')[0]} (${chosen.path})` };
  },
};
