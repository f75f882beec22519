import type { Protection } from '../config/define.js';
import { usageError } from '../errors.js';
import type { Marker } from '../guard/marker.js';
import { CONFIRM_HELP, CONFIRM_OPTIONS } from '../guard/protection.js';
import { ENV_HELP, loadTargets, resolveOne, runGuarded } from './shared.js';
import type { Command } from './types.js';

const LEVELS = ['none', 'guarded', 'production'];

const command: Command = {
  usage: `Usage: stagedb marker [show | set [<level>] | clear] --env <name> [--url <url>] [--confirm <name>]

The protection marker is the row in the table stagedb.marker of a database that says which
environment it is (e.g. production, level production). A command whose environment is less protected
than the marker, or is another environment, is refused: a wrong URL cannot treat production as
development. Guarded and production-level commands write it themselves (docs/protection.md).

  show    what the database says it is, and whether <name>'s config agrees (the default)
  set     mark the database as <name>, with <name>'s protection level (<level>, if given, must be it)
  clear   remove the marker (and the old stagedb.protection database setting, where one exists)

set and clear change what protects the database: they always ask you to type a name (in CI:
--confirm <name>), and they are recorded in the audit trail. The name is <name>, or — when the
database says it is another environment — that environment's name, so clearing production's marker
through a development config means typing "production".

      --url <url>            connect with this URL instead of the environment's (e.g. the database
                             owner's, when the application's role may not write the marker)
${CONFIRM_HELP}
${ENV_HELP}`,
  options: { url: { type: 'string' }, ...CONFIRM_OPTIONS },
  positionals: true,
  async run(ctx, args) {
    const [action = 'show', level, ...rest] = args.positionals;
    if (rest.length > 0 || !['show', 'set', 'clear'].includes(action) || (action !== 'set' && level !== undefined)) {
      throw usageError('E_USAGE', `marker takes show, set [<level>] or clear, not "${args.positionals.join(' ')}"`, 'stagedb marker show --env production');
    }
    const { config, names } = await loadTargets(ctx, args);
    const env = resolveOne(ctx, config, names[0]!, args.values.url as string | undefined);
    if (level !== undefined && !LEVELS.includes(level)) {
      throw usageError('E_USAGE', `"${level}" is not a protection level (none, guarded, production)`, `stagedb marker set --env ${env.name}`);
    }
    if (level !== undefined && level !== env.protection) {
      throw usageError(
        'E_USAGE',
        `the marker records ${env.name}'s own level, "${env.protection}", not "${level}"`,
        level === 'none' ? `stagedb marker clear --env ${env.name}` : `set protection: '${level}' for environments.${env.name} in the config, then: stagedb marker set --env ${env.name}`,
      );
    }
    const { connect } = await import('../pg/connect.js');
    const m = await import('../guard/marker.js');
    const i = env.directInfo;
    const where = `${i.database} on ${i.host}:${i.port}`;
    ctx.log(`${env.name}: ${where} (via ${env.directSource}, protection ${env.protection})`);

    const client = await connect(env.directUrl, { label: `${env.name} (${env.directSource})`, purpose: 'marker' });
    let current: Marker;
    try {
      current = await m.readMarker(client);
    } finally {
      await client.end().catch(() => {});
    }
    let problem: string | undefined;
    try {
      m.checkMarker(current, env);
    } catch (e) {
      problem = (e as Error).message;
    }

    if (action === 'show') {
      const lines = [`  marker: ${describe(current)}`];
      if (current.table) lines.push(`    stagedb.marker: ${current.table.protection} (environment ${current.table.environment})${current.table.setAt ? `, set ${current.table.setAt}${current.table.setBy ? ` by ${current.table.setBy}` : ''}` : ''}`);
      if (current.setting) lines.push(`    old database setting stagedb.protection: ${current.setting.protection}${current.setting.environment ? ` (environment ${current.setting.environment})` : ''}`);
      if (problem) lines.push(`  DOES NOT MATCH: ${problem}`);
      else if (!current.protection && env.protection !== 'none') lines.push(`  not marked yet: the next deploy marks it (or now: stagedb marker set --env ${env.name})`);
      else lines.push(`  agrees with ${env.name}'s config`);
      return { exitCode: 0, data: { env: env.name, database: i.database, host: i.host, port: i.port, protection: env.protection, marker: current, matches: !problem, problem }, text: lines.join('\n') };
    }

    const to = action === 'set' && env.protection !== 'none' ? { protection: env.protection as Protection, environment: env.name } : undefined;
    // Lowering or moving a marker that names another environment takes that environment's name.
    const confirmAs = current.environment && current.environment !== env.name ? current.environment : env.name;
    const what = to
      ? `mark ${where} as ${env.name} ("${env.protection}"; it is ${current.protection ? `marked ${describe(current)}` : 'not marked'})`
      : `remove the protection marker of ${where} (${current.protection ? describe(current) : 'it has none'})`;
    const retry = `stagedb marker ${action} --env ${env.name}${args.values.url ? ' --url <url>' : ''}`;
    const r = await runGuarded(ctx, {
      action: 'marker',
      command: `marker ${action} --env ${env.name}`,
      env,
      config,
      args,
      what,
      confirmAs,
      retry,
      ownMarker: true,
      run: async (c) => {
        const change = await m.changeMarker(c, env, to);
        return { value: change, summary: `${to ? `marked ${env.name} (${env.protection})` : 'cleared the marker'}; was ${describe(change.before)}` };
      },
    });
    for (const w of r.warnings) ctx.warn(w);
    const text = to
      ? `${env.name}: ${where} is marked ${describe(r.after)} (was ${describe(r.before)})`
      : `${env.name}: ${where} has no protection marker now (was ${describe(r.before)})${env.protection === 'none' ? '' : `; the next guarded command marks it again as ${env.name}`}`;
    return { exitCode: 0, data: { env: env.name, database: i.database, before: r.before, after: r.after, oldSettingReset: r.oldSettingReset }, text };
  },
};

function describe(m: Marker): string {
  return m.protection ? `"${m.protection}"${m.environment ? ` (environment ${m.environment})` : ''}` : 'none';
}

export default command;
