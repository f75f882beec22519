/**
 * `stagedb studio` as a library: Prisma Studio on one environment, read-only where the environment
 * (or the database's own protection marker) says so, enforced by PostgreSQL. Nothing here prints or
 * exits; the caller keeps the returned session and stops it.
 */
import { resolveEnvironment, type ResolvedEnvironment } from '../config/environments.js';
import type { ResolvedConfig } from '../config/load.js';
import { StagedbError } from '../errors.js';
import { planStudio, type StudioPlan } from './plan.js';
import { checkPrerequisites, startStudio } from './start.js';
import type { StudioSession } from './start.js';

export { planStudio, studioUrl, describePlan, READ_ONLY_OPTION, STUDIO_APPLICATION_NAME, type StudioPlan } from './plan.js';
export { startStudio, checkPrerequisites, MIN_PRISMA_MAJOR, type StudioSession, type StudioSessionCheck, type StartStudioOptions } from './start.js';
export { freePort, assertPortFree, parsePort, STUDIO_HOST } from './port.js';
export { openBrowser } from './browser.js';

/** The environment Studio opens, with the Accelerate-only case said in Studio's terms. Its `warnings` are the caller's to show. */
export function resolveStudioEnvironment(config: ResolvedConfig, name: string, processEnv: NodeJS.ProcessEnv): ResolvedEnvironment {
  try {
    return resolveEnvironment(config, name, { processEnv });
  } catch (e) {
    if (e instanceof StagedbError && e.code === 'E_DIRECT_URL_REQUIRED') {
      const what = /Accelerate/.test(e.message) ? 'a Prisma Accelerate URL' : /pooler/i.test(e.message) ? 'a connection-pooler URL' : 'not a direct URL';
      throw new StagedbError('config', 'E_DIRECT_URL_REQUIRED', `stagedb studio needs a direct PostgreSQL URL for ${name}, and it has only ${what}: Prisma Studio cannot browse through Accelerate or a pooler`, {
        fix: e.fix,
      });
    }
    throw e;
  }
}

export interface OpenStudioOptions {
  env: ResolvedEnvironment;
  /** Project root (the config's directory): where the Prisma CLI is found and Studio runs. */
  root: string;
  /** Where relative `sslrootcert` paths are resolved, as for stagedb's own connections. */
  cwd: string;
  processEnv: NodeJS.ProcessEnv;
  port?: number;
  /** Read-only whatever the environment says. */
  readOnly?: boolean;
  timeoutMs?: number;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** An audit record that could not be stored. */
  onWarning?: (line: string) => void;
}

export interface OpenedStudio {
  plan: StudioPlan;
  session: StudioSession;
  /** The database's own protection marker, when it has one. */
  marker?: string;
}

/**
 * Checks the connection with stagedb's own client first (so a wrong password, TLS or host fails with
 * stagedb's message before anything starts) and reads the database's protection marker (a database
 * marked production opens read-only whatever the config says), then starts Studio.
 */
export async function openStudio(options: OpenStudioOptions): Promise<OpenedStudio> {
  const { env } = options;
  const started = Date.now();
  // Opening Studio on a guarded or production environment is recorded in the audit trail, whoever opens it.
  const audit = async (outcome: 'ok' | 'failed' | 'refused', summary: string) => {
    if (env.protection === 'none') return;
    const { recordRun } = await import('../guard/audit.js');
    const warning = await recordRun({ env, root: options.root, processEnv: options.processEnv, command: `studio --env ${env.name}`, started, outcome, summary });
    if (warning) options.onWarning?.(warning);
  };
  let opened: OpenedStudio;
  try {
    opened = await checkAndStart(options);
  } catch (e) {
    // Only attempts that reached the database are worth a record; a busy port or a missing CLI is not an access.
    if (e instanceof StagedbError && (e.code === 'E_STUDIO_NOT_READ_ONLY' || e.code === 'E_STUDIO_CONNECT')) await audit(e.kind === 'guard' ? 'refused' : 'failed', e.message).catch(() => {});
    throw e;
  }
  const { plan, session } = opened;
  await audit('ok', `opened Prisma Studio ${plan.mode} as ${session.check.user} (${plan.source}) on ${session.url}`);
  return opened;
}

async function checkAndStart(options: OpenStudioOptions): Promise<OpenedStudio> {
  const first = planStudio(options.env, { cwd: options.cwd, forceReadOnly: options.readOnly });
  await checkPrerequisites(options.root, options.port);
  const { connect } = await import('../pg/connect.js');
  const { readMarker } = await import('../guard/marker.js');
  const client = await connect(first.connectUrl, { label: `${options.env.name} (${first.source})`, purpose: 'studio' });
  let marker: string | undefined;
  try {
    marker = (await readMarker(client)).protection;
  } finally {
    await client.end().catch(() => {});
  }
  const plan = planStudio(options.env, { cwd: options.cwd, databaseMarker: marker, forceReadOnly: options.readOnly });
  const session = await startStudio({ plan, root: options.root, processEnv: options.processEnv, port: options.port, timeoutMs: options.timeoutMs, onLine: options.onLine });
  return { plan, session, marker };
}
