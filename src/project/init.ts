import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CONFIG_FILE_NAMES } from '../config/load.js';
import { discoverPrismaProject } from '../config/prisma-project.js';
import { StagedbError } from '../errors.js';

/** The guide's script names, verbatim, and the stagedb command each one runs. */
export const GUIDE_SCRIPTS: ReadonlyArray<readonly [string, string]> = [
  ['db:push', 'stagedb push'],
  ['db:migrate', 'stagedb migrate dev'],
  ['db:seed', 'stagedb seed'],
  ['db:studio', 'stagedb studio'],
  ['db:status', 'stagedb status'],
  ['db:migrate:reset', 'stagedb migrate reset'],
  ['db:migrate:deploy', 'stagedb migrate deploy'],
  ['db:push:staging', 'stagedb push --env staging'],
  ['db:migrate:staging', 'stagedb migrate deploy --env staging'],
  ['db:seed:staging', 'stagedb seed --env staging'],
  ['db:studio:staging', 'stagedb studio --env staging'],
  ['db:status:staging', 'stagedb status --env staging'],
  ['db:deploy:staging', 'stagedb deploy --env staging'],
  ['db:backup:staging', 'stagedb backup --env staging'],
  ['db:studio:production', 'stagedb studio --env production'],
  ['db:deploy:production', 'stagedb deploy --env production'],
  ['db:backup:production', 'stagedb backup --env production'],
];

export interface InitResult {
  configFile: string;
  /** A config of another format that --force replaced with stagedb.config.ts. */
  replacedConfig?: string;
  wroteConfig: boolean;
  added: string[];
  kept: Array<{ name: string; existing: string }>;
  replaced: string[];
  /** Lines added to .gitignore (none when every one was there already). */
  gitignoreAdded: string[];
}

/**
 * What must never reach git: env files hold the databases' passwords, .stagedb/ the local server's data
 * and its password, the audit log and local backups. `.env.example`, a template teams commit, stays in.
 */
export const GITIGNORE_LINES: readonly string[] = ['.env*', '!.env.example', '.stagedb/'];

/** A .gitignore line as git matches it for a top-level entry: `/.stagedb/` and `.stagedb` ignore the same. */
const ignoreKey = (line: string) => line.trim().replace(/^\//, '').replace(/\/$/, '');

/**
 * Appends the GITIGNORE_LINES that `.gitignore` lacks, keeping the user's lines and order as they are;
 * running it again adds nothing.
 */
export function gitignoreAdditions(existing: string): { text: string; added: string[] } {
  const have = new Set(existing.split(/\r?\n/).map(ignoreKey));
  // The exception only comes with the rule it excepts from: a user's own `.env*` keeps its meaning.
  const added = GITIGNORE_LINES.filter((l) => !have.has(ignoreKey(l)) && (l !== '!.env.example' || !have.has('.env*')));
  if (added.length === 0) return { text: existing, added };
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  const gap = existing === '' ? '' : '\n';
  return { text: `${existing}${sep}${gap}# stagedb: env files hold database passwords; .stagedb/ the local PostgreSQL and backups\n${added.join('\n')}\n`, added };
}

async function configTemplate(root: string): Promise<string> {
  const p = await discoverPrismaProject(root);
  const rel = (x: string) => relative(root, x).split('\\').join('/');
  return `import { defineConfig, env } from 'stagedb';

// stagedb — one Prisma schema across development, staging and production.
// Each environment reads its URLs from .env.<name> (on top of .env); variables set in the shell win.
// url:       what the application uses (may be prisma+postgres:// Accelerate or a pooler)
// directUrl: a direct postgresql:// URL for migrations, status and backups
export default defineConfig({
  schema: '${rel(p.schemaPath)}',
  migrations: '${rel(p.migrationsDir)}',
${p.seed ? `  seed: '${p.seed.replace(/'/g, "\\'")}',\n` : `  // seed: 'node prisma/seed.mjs',\n`}  environments: {
    development: { url: env('DATABASE_URL') },
    staging: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL') },
    production: { url: env('DATABASE_URL'), directUrl: env('DIRECT_URL') },
  },
});
`;
}

/**
 * `stagedb init`: writes stagedb.config.ts, adds the guide's db:* scripts to package.json and keeps env
 * files and .stagedb/ out of git (.gitignore).
 * Existing scripts with other content are kept unless `force`; nothing is written when the
 * package.json cannot be read.
 */
export async function initProject(root: string, options: { force?: boolean } = {}): Promise<InitResult> {
  const pkgPath = join(root, 'package.json');
  if (!existsSync(pkgPath)) {
    throw new StagedbError('usage', 'E_NO_PACKAGE_JSON', `no package.json in ${root}`, { fix: 'run stagedb init from the project root (or create one: npm init -y)' });
  }
  let pkg: { scripts?: Record<string, string> } & Record<string, unknown>;
  const raw = readFileSync(pkgPath, 'utf8');
  try {
    pkg = JSON.parse(raw) as typeof pkg;
  } catch (e) {
    throw new StagedbError('config', 'E_PACKAGE_JSON', `package.json is not valid JSON: ${(e as Error).message}`, { fix: `fix ${pkgPath}` });
  }
  const existingConfig = CONFIG_FILE_NAMES.map((n) => join(root, n)).find((p) => existsSync(p));
  const wroteConfig = !existingConfig || Boolean(options.force);
  // The template is TypeScript: --force over a .json/.mjs config replaces that file with stagedb.config.ts.
  const configFile = wroteConfig ? join(root, 'stagedb.config.ts') : existingConfig!;
  const replacedConfig = wroteConfig && existingConfig && existingConfig !== configFile ? existingConfig : undefined;
  const scripts = { ...(pkg.scripts ?? {}) };
  const added: string[] = [];
  const kept: InitResult['kept'] = [];
  const replaced: string[] = [];
  for (const [name, cmd] of GUIDE_SCRIPTS) {
    const cur = scripts[name];
    if (cur === undefined) {
      scripts[name] = cmd;
      added.push(name);
    } else if (cur !== cmd) {
      if (options.force) {
        scripts[name] = cmd;
        replaced.push(name);
      } else kept.push({ name, existing: cur });
    }
  }
  const indent = /^(\s+)"/m.exec(raw)?.[1] ?? '  ';
  const next = `${JSON.stringify({ ...pkg, scripts }, null, indent)}\n`;
  // Write both files via temp + rename so an interrupted init leaves no half-written file.
  if (wroteConfig) writeAtomic(configFile, await configTemplate(root));
  if (replacedConfig) rmSync(replacedConfig);
  if (next !== raw) writeAtomic(pkgPath, next);
  const gitignorePath = join(root, '.gitignore');
  const gitignore = existsSync(gitignorePath) ? readFileSync(gitignorePath, 'utf8') : '';
  const ignore = gitignoreAdditions(gitignore);
  if (ignore.added.length) writeAtomic(gitignorePath, ignore.text);
  return { configFile, replacedConfig, wroteConfig, added, kept, replaced, gitignoreAdded: ignore.added };
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.stagedb-tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
