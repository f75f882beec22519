import { loadSecrets } from '../../aws/secrets.js';
import { resolveEnvironment } from '../../config/environments.js';
import { StagedbError } from '../../errors.js';
import type { DoctorCheck } from '../types.js';

const OWN = new Set(['E_ENV_VAR_MISSING', 'E_ENV_FILE_MISSING', 'E_ENV_UNKNOWN']);

/** DOC001: the environment's variables and env files are there. Resolves the environment for every later check. */
export const envVars: DoctorCheck = {
  code: 'DOC001',
  name: 'env-vars',
  requires: [],
  async run(s) {
    try {
      await loadSecrets(s.config, [s.envName], s.processEnv);
      s.env = resolveEnvironment(s.config, s.envName, { processEnv: s.processEnv });
    } catch (e) {
      if (!(e instanceof StagedbError)) throw e;
      s.resolveError = e;
      if (OWN.has(e.code)) return { status: 'fail', detail: e.message, fix: e.fix };
    }
    const files = s.env?.envFiles.map((f) => f.slice(s.config.root.length + 1) || f) ?? [];
    const read = files.length > 0 ? `env files read: ${files.join(', ')}` : 'no env file found (values come from the shell or the config)';
    if (s.env && s.env.warnings.length > 0) {
      return { status: 'warn', detail: `${s.env.warnings.join('; ')} (${read})`, fix: 'unset the shell variable, or make it match the env file' };
    }
    return { status: 'ok', detail: s.env ? `connection from ${s.env.directSource}; ${read}` : `variables present; ${read}` };
  },
};
