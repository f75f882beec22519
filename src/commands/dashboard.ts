import { StagedbError } from '../errors.js';
import { ENV_HELP, loadTargets } from './shared.js';
import type { Command } from './types.js';

const command: Command = {
  usage: `Usage: stagedb dashboard [--env <name>|all] [--port <n>] [--browser <name>|none] [--no-open]

Serves one page on 127.0.0.1 showing every environment side by side: migration state, drift (from
the drift cache), the last backup and its verification, the audit trail, the lint findings of what is
pending there, the advisor's findings, and plots of table sizes, connections and query time.
Read-only: the server answers GET and HEAD only and every read is a catalog or statistics query.
The address carries a token made for this run; requests without it are refused (403). Nothing is
loaded from or sent anywhere else. Each load (or Refresh) re-reads every environment; an environment
that is down shows its error. It runs until Ctrl-C (or SIGTERM).

      --port <n>             listen on this port (default: a free one)
      --browser <name|none>  open the address in this browser (default: the system's, in a terminal;
                             none elsewhere; the BROWSER variable also works)
      --no-open              do not open a browser (same as --browser none)
  -e, --env <name|all>       the environments to show (default: all of them)
${ENV_HELP.split('\n').slice(1).join('\n')}`,
  options: {
    port: { type: 'string', short: 'p' },
    browser: { type: 'string', short: 'b' },
    'no-open': { type: 'boolean' },
  },
  async run(ctx, args) {
    const { parsePort, openBrowser } = await import('../studio/index.js');
    const { openDashboard } = await import('../dashboard/index.js');
    let port: number | undefined;
    try {
      port = args.values.port === undefined ? undefined : parsePort(String(args.values.port));
    } catch (e) {
      // parsePort's own fix names studio.
      if (e instanceof StagedbError) throw new StagedbError('usage', e.code, e.message, { fix: 'stagedb dashboard --port 5555 (or leave it out for a free port)' });
      throw e;
    }
    // Every environment unless one is named: the page is for comparing them.
    if (args.values.env === undefined && !ctx.env.STAGEDB_ENV) args.values.env = 'all';
    const { config, names } = await loadTargets(ctx, args, { allowAll: true });
    const server = await openDashboard({
      config,
      names,
      processEnv: ctx.env,
      cwd: ctx.cwd,
      ...(port !== undefined ? { port } : {}),
      onPage: (d) => ctx.log(`  page read in ${Math.round(d.ms)} ms (${d.environments.length} environment${d.environments.length === 1 ? '' : 's'}${d.driftChecked ? ', drift checked' : ''})`),
    });
    ctx.log(`stagedb dashboard for ${names.join(', ')} is running at ${server.url}`);
    ctx.log('  read-only, on 127.0.0.1 only; the token in the address is this run\'s own');
    ctx.log('  press Ctrl-C to stop');

    const browser = args.values['no-open'] ? 'none' : (args.values.browser as string | undefined) || ctx.env.BROWSER || (ctx.interactive ? '' : 'none');
    if (browser.toLowerCase() !== 'none') {
      const warning = await openBrowser(server.url, browser || undefined);
      if (warning) ctx.warn(warning);
    }

    const started = Date.now();
    let release = () => {};
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => {
        const h = () => resolve(s);
        process.once(s, h);
        return [s, h] as const;
      });
      release = () => handlers.forEach(([s, h]) => process.removeListener(s, h));
    });
    release();
    await server.close();
    const minutes = Math.round((Date.now() - started) / 60_000);
    return {
      exitCode: 0,
      data: { environments: names, url: `http://127.0.0.1:${server.port}/`, port: server.port, stoppedBy: signal },
      text: `stagedb dashboard stopped (${signal}${minutes > 0 ? `, after ${minutes} min` : ''})`,
    };
  },
};

export default command;
