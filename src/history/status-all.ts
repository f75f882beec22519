import { resolveEnvironment, type ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedConfig } from '../config/load.js';
import { environmentsSharingDatabase, sameDatabaseError } from '../config/same-database.js';
import { StagedbError } from '../errors.js';
import { redact } from '../redact.js';
import { readLocalHistoryOnce } from './local.js';
import { environmentStatus, type EnvStatus } from './status.js';

/** Resolution errors that mean "no URL of its own yet", not "a URL that is wrong". */
const NOT_CONFIGURED = new Set(['E_ENV_VAR_MISSING', 'E_ENV_FILE_MISSING']);

/**
 * Every named environment's status, concurrently: resolved, checked for sharing a database with
 * another, compared with the folder. An environment that cannot be resolved is a row with its error.
 */
export async function environmentsStatus(
  config: ResolvedConfig,
  names: string[],
  o: { cwd: string; processEnv: NodeJS.ProcessEnv; onWarning?: (line: string) => void; /** Each environment that resolved, before its status is read (the drift check starts work for it). */ onResolved?: (env: ResolvedEnvironment) => void },
) {
  // The folder is read (and every file hashed) once the first environment's query is on its way, so
  // that it overlaps the servers' work; a problem with it still fails the whole command, as before.
  const readFolder = readLocalHistoryOnce(config.migrationsDir, o.cwd);
  const resolved = new Map<string, ResolvedEnvironment>();
  // Each environment of the config resolved once (its .env files read, its URLs parsed), for its own
  // status and for the others' check that no two share a database: not once per environment named.
  const resolutions = new Map<string, { env: ResolvedEnvironment } | { error: unknown }>();
  const resolveOnce = (name: string): ResolvedEnvironment => {
    let r = resolutions.get(name);
    if (!r) {
      try {
        r = { env: resolveEnvironment(config, name, { processEnv: o.processEnv }) };
      } catch (error) {
        r = { error };
      }
      resolutions.set(name, r);
    }
    if ('error' in r) throw r.error;
    return r.env;
  };
  const results = await Promise.all(
    names.map(async (name): Promise<EnvStatus> => {
      try {
        const env = resolveOnce(name);
        for (const w of env.warnings) o.onWarning?.(`${name}: ${w}`);
        const others = environmentsSharingDatabase(config, env, o.processEnv, resolveOnce);
        if (others.length > 0) throw sameDatabaseError(env, others);
        resolved.set(name, env);
        o.onResolved?.(env);
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
  const local = readFolder();
  return { results, resolved, local };
}
