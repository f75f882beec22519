import { StagedbError } from '../errors.js';
import { ENV_HELP, loadTargets } from './shared.js';
import type { StudioSession } from '../studio/start.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb studio [--env <name>] [--port <n>] [--browser <name>|none] [--read-only]

Starts the project's Prisma Studio (prisma studio --url, no native engine needed) on the environment's
direct URL — or its studioUrl — bound to 127.0.0.1, on a free port, and prints the address. It runs
until Ctrl-C (or SIGTERM), then stops Studio.

Read-only on production-level environments and wherever the config says studio: 'read-only' (also
when the database itself is marked production): every Studio connection starts with
default_transaction_read_only=on, so PostgreSQL refuses every edit (SQLSTATE 25006). Studio's SQL
editor can still turn that setting off: for a guarantee, point studioUrl at a role with SELECT only.
Opening Studio on a guarded or production environment is recorded in the audit trail (stagedb history).

      --port <n>             listen on this port (default: a free one)
      --browser <name|none>  open the address in this browser (default: the system's, in a terminal;
                             none elsewhere; the BROWSER variable also works)
      --read-only            read-only even where the environment allows writes
${ENV_HELP}`,
  options: {
    port: { type: 'string', short: 'p' },
    browser: { type: 'string', short: 'b' },
    'read-only': { type: 'boolean' },
  },
  async run(ctx, args) {
    const { parsePort, openStudio, openBrowser, resolveStudioEnvironment } = await import('../studio/index.js');
    const port = args.values.port === undefined ? undefined : parsePort(String(args.values.port));
    const { config, names } = await loadTargets(ctx, args);
    const name = names[0]!;
    const env = resolveStudioEnvironment(config, name, ctx.env);
    for (const w of env.warnings) ctx.warn(`${name}: ${w}`);
    const started = Date.now();
    const { plan, session } = await openStudio({
      env,
      root: config.root,
      cwd: ctx.cwd,
      processEnv: ctx.env,
      port,
      readOnly: Boolean(args.values['read-only']),
      onLine: (line, stream) => {
        // Studio's own banner names localhost; stagedb prints the address it checked instead.
        if (/Prisma Studio is running at|^Loaded Prisma config from|^Prisma schema loaded from/.test(line)) return;
        if (stream === 'stdout') ctx.log(`  studio: ${line}`);
        else ctx.warn(`studio: ${line}`);
      },
      onWarning: (w) => ctx.warn(w),
    });

    ctx.log(`${env.name}: Prisma Studio ${session.prismaVersion} is running at ${session.url}`);
    ctx.log(`  mode: ${plan.mode} — ${plan.reason}${plan.mode === 'read-only' ? '; PostgreSQL refuses every write of this session (default_transaction_read_only=on)' : ''}`);
    ctx.log(`  connected as ${plan.display} via ${plan.source}${session.check.ssl ? ', TLS' : ', not encrypted'}`);
    if (plan.mode === 'read-only' && !env.studio.url) {
      ctx.log(`  note: Studio's SQL editor can switch the setting off; for a hard guarantee set studioUrl for ${env.name} to a role with SELECT only`);
    }
    for (const n of plan.notes) ctx.log(`  note: ${n}`);
    ctx.log('  press Ctrl-C to stop');

    const browser = (args.values.browser as string | undefined) || ctx.env.BROWSER || (ctx.interactive ? '' : 'none');
    if (browser.toLowerCase() !== 'none') {
      const warning = await openBrowser(session.url, browser || undefined);
      if (warning) ctx.warn(warning);
    }

    const outcome = await untilStopped(session);
    if ('exited' in outcome) {
      throw new StagedbError('migration', 'E_STUDIO_EXITED', `Prisma Studio stopped on its own (${outcome.exited.signal ? `killed by ${outcome.exited.signal}` : `exit ${outcome.exited.code}`})`, {
        details: outcome.exited.output.slice(-5),
        fix: `stagedb studio --env ${env.name}`,
      });
    }
    const minutes = Math.round((Date.now() - started) / 60_000);
    return {
      exitCode: 0,
      data: { env: env.name, url: session.url, port: session.port, mode: plan.mode, reason: plan.reason, source: plan.source, user: session.check.user, readOnly: session.check.readOnly, ssl: session.check.ssl, stoppedBy: outcome.signal },
      text: `${env.name}: Prisma Studio stopped (${outcome.signal}${minutes > 0 ? `, after ${minutes} min` : ''})`,
    };
  },
};

/**
 * Runs until a signal, or until Studio itself goes away, then stops Studio. Once decided, the handlers
 * go: a second Ctrl-C while Studio stops falls back to Node's default, and Studio still exits (its stdin closes).
 */
async function untilStopped(session: StudioSession) {
  let release = () => {};
  const outcome = await new Promise<{ signal: NodeJS.Signals } | { exited: { code: number | null; signal: NodeJS.Signals | null; output: string[] } }>((resolve) => {
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => {
      const h = () => resolve({ signal: s });
      process.once(s, h);
      return [s, h] as const;
    });
    release = () => handlers.forEach(([s, h]) => process.removeListener(s, h));
    void session.exited.then((exited) => resolve({ exited }));
  });
  release();
  await session.stop();
  return outcome;
}

export default command;
