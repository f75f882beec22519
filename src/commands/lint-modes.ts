import { basename, dirname, resolve } from 'node:path';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { usageError } from '../errors.js';
import { readLintInputs } from '../lint/inputs.js';
import type { LintOptions, LintResult } from '../lint/types.js';
import { resolveOne } from './shared.js';
import type { CommandContext, CommandOutput, ParsedArgs } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';

/** `stagedb lint`'s other modes: `--fix` (the zero-downtime rewrite), `--rules` (the catalogue), `--env` (against a database). */

/** `stagedb lint --fix`: the zero-downtime rewrite of migrations applied nowhere (src/rewrite/fix.ts). */
export async function fix(ctx: CommandContext, args: ParsedArgs): Promise<CommandOutput> {
  const config = await loadConfig({ cwd: ctx.cwd, configFile: args.values.config as string | undefined });
  for (const w of config.warnings) ctx.warn(w);
  const environments = [];
  const unresolved: Array<{ env: string; reason: string }> = [];
  for (const name of Object.keys(config.environments)) {
    try {
      environments.push(resolveOne(ctx, config, name));
    } catch (e) {
      unresolved.push({ env: name, reason: (e as Error).message });
    }
  }
  // Paths name migrations: a migration directory, or its migration.sql.
  const only = args.positionals.length ? args.positionals.map((p) => basename(basename(p) === 'migration.sql' ? dirname(resolve(ctx.cwd, p)) : resolve(ctx.cwd, p))) : undefined;
  await baselineWasmOnly();
  const { fixMigrations } = await import('../rewrite/fix.js');
  const r = await fixMigrations({ migrationsDir: config.migrationsDir, environments, unresolved, ...(only ? { only } : {}) });
  const lines: string[] = [];
  for (const u of r.unchecked) ctx.warn(`${u.env}: not asked which migrations it has (${u.reason}); you named the migrations, so they were rewritten anyway`);
  for (const f of r.fixed) {
    lines.push(`fixed ${f.name} → ${f.folders.length} migrations:`);
    for (const folder of f.folders) lines.push(`  ${folder}`);
    for (const c of f.changes) lines.push(`  ${c.code} ${c.message}\n         why: ${c.why}`);
  }
  for (const m of [...r.fixed, ...r.unchanged]) for (const u of m.unsafe) ctx.warn(`${m.name}: ${u.code} not made safe: ${u.message}\n  plan: ${u.plan}`);
  for (const a of r.applied) lines.push(`left ${a.name} as it is: applied on ${a.envs.join(', ')}`);
  lines.push(`${r.fixed.length} migration${r.fixed.length === 1 ? '' : 's'} rewritten, ${r.unchanged.length} needed nothing, ${r.applied.length} applied somewhere (checked: ${r.checked.join(', ') || 'none'}).`);
  return { exitCode: 0, data: r, text: lines.join('\n') };
}

/** `stagedb lint --rules`: from the rule modules alone (the parser is not loaded). */
export async function listRules(): Promise<CommandOutput> {
  const { RULES } = await import('../lint/rules/index.js');
  const { columns } = await import('../render/table.js');
  const rows = RULES.map((r) => [r.code, r.name, r.defaultSeverity + (r.sizeBound ? ' (by size)' : ''), r.summary]);
  return {
    exitCode: 0,
    data: { rules: RULES.map((r) => ({ code: r.code, name: r.name, defaultSeverity: r.defaultSeverity, sizeBound: !!r.sizeBound, summary: r.summary })) },
    text: `${columns(['CODE', 'NAME', 'DEFAULT', 'HAZARD'], rows)}\n\nSet severities in stagedb.config.ts: lint: { rules: { SDB015: 'error', 'type-hygiene': 'info' } }`,
  };
}

/**
 * `stagedb lint --env <name>`: the migrations pending there (or the named files), with the size of
 * every table they touch there.
 */
export async function lintOnEnvironment(ctx: CommandContext, args: ParsedArgs, config: ResolvedConfig, options: LintOptions, envName: string, format: string): Promise<{ result: LintResult; pending?: string[] }> {
  const { selectEnvironments } = await import('../config/environments.js');
  const names = selectEnvironments(config, envName, ctx.env);
  if (names.length !== 1) throw usageError('E_USAGE', 'stagedb lint runs against one environment at a time, not --env all', `pick one: --env ${names[0] ?? 'production'}`);
  const { loadSecrets } = await import('../aws/secrets.js');
  await loadSecrets(config, names, ctx.env);
  const env = resolveOne(ctx, config, names[0]!);
  const runner = options.runner;
  const lintOptions = { ...options, runnerLockTimeoutMs: runner === 'stagedb' ? env.lockTimeoutMs : undefined, runnerStatementTimeoutMs: runner === 'stagedb' ? env.statementTimeoutMs : undefined };
  if (args.positionals.length > 0) {
    const { lintAgainst } = await import('../lint/pending.js');
    return { result: await lintAgainst(env, readLintInputs({ cwd: ctx.cwd, root: config.root, migrationsDir: config.migrationsDir, paths: args.positionals }), lintOptions) };
  }
  const { lintPending } = await import('../lint/pending.js');
  const p = await lintPending({ env, migrationsDir: config.migrationsDir, cwd: ctx.cwd, lint: lintOptions });
  if (format === 'text' && !ctx.json) ctx.log(p.pending.length ? `${env.name}: ${p.pending.length} pending migration${p.pending.length === 1 ? '' : 's'}: ${p.pending.join(', ')}` : `${env.name}: no pending migrations`);
  return { result: p.result, pending: p.pending };
}
