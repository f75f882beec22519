import { basename, dirname, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { resolveOne } from './shared.js';
import type { CommandContext, CommandOutput, ParsedArgs } from './types.js';
import { baselineWasmOnly } from './wasm-tier.js';

/** `stagedb lint`'s other two modes: `--fix` (the zero-downtime rewrite) and `--rules` (the catalogue). */

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
