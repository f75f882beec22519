/**
 * The pure parts of the development commands: migration names as the Prisma CLI makes them, the
 * datasource provider check, and migration files that appear complete or not at all.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sortedLast } from '../../src/develop/migrate-dev.js';
import { migrationNameSlug } from '../../src/develop/name.js';
import { assertPostgresSchema, datasourceProviders } from '../../src/engine/index.js';
import { ensureMigrationLock, migrationLockToml, writeMigrationFiles } from '../../src/history/write.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'stagedb-files-'));
  dirs.push(d);
  return d;
}

describe('migrationNameSlug', () => {
  // Expected values computed with the Prisma CLI's own slugify (prisma 7.10.1, build/cli.js `hN(name, { separator: "_" })`).
  it.each([
    ['init', 'init'],
    ['Add user posts', 'add_user_posts'],
    ["Add user's posts", 'add_users_posts'],
    ['addUserPosts', 'add_user_posts'],
    ['AddHTTPHeaders', 'add_http_headers'],
    ['APIv2', 'ap_iv2'], // sic: slugify's decamelize
    ['post & comments', 'post_and_comments'],
    ['Ünïcödé café', 'uenicoede_cafe'],
    ['straße', 'strasse'],
    ['Łódź', 'lodz'],
    ['  lead-trail  ', 'lead_trail'],
    ['enum change: add value', 'enum_change_add_value'],
    ['snake_case_name', 'snake_case_name'],
    ['x😀y', 'x_y'],
  ])('%j → %j', (name, slug) => {
    expect(migrationNameSlug(name)).toBe(slug);
  });

  it('is cut to 200 characters, as the engine refuses longer names', () => {
    expect(migrationNameSlug('a'.repeat(250))).toBe('a'.repeat(200));
  });

  it('leaves nothing of a name in a script it does not transliterate (Prisma would: "privet"), so it is refused rather than named differently', () => {
    expect(migrationNameSlug('привет')).toBe('');
  });
});

describe('sortedLast: a new migration always sorts after the existing ones', () => {
  it('keeps the engine\'s name when it already does', () => {
    expect(sortedLast('20250101000001_b', ['20250101000000_a'])).toBe('20250101000001_b');
    expect(sortedLast('20250101000000_b', ['20250101000000_a'])).toBe('20250101000000_b');
    expect(sortedLast('20250101000000_init', [])).toBe('20250101000000_init');
  });

  it('moves it one second past the latest when the same second would put it first', () => {
    expect(sortedLast('20250101000000_add_posts', ['20250101000000_init'])).toBe('20250101000001_add_posts');
    expect(sortedLast('20241231235959_a', ['20241231235959_z', '20240101000000_x'])).toBe('20250101000000_a');
    // A clock behind the history (another machine's migrations): still after them.
    expect(sortedLast('20240101000000_late', ['20250601120000_future'])).toBe('20250601120001_late');
  });
});

describe('the datasource provider check', () => {
  const file = (content: string) => [{ path: 'prisma/schema.prisma', content }];

  it('finds the provider of every datasource block, with its line', () => {
    expect(datasourceProviders(file('// x\ndatasource db {\n  url = env("X")\n  provider = "postgresql"\n}\nmodel A {\n  id Int @id\n}\n'))).toEqual([
      { file: 'prisma/schema.prisma', line: 4, provider: 'postgresql' },
    ]);
  });

  it('accepts postgresql and postgres', () => {
    expect(() => assertPostgresSchema(file('datasource db {\n  provider = "postgres"\n}\n'))).not.toThrow();
    expect(() => assertPostgresSchema([{ path: 'a.prisma', content: 'model A {\n  id Int @id\n}\n' }, { path: 'b.prisma', content: 'datasource db {\n  provider = "postgresql"\n}\n' }])).not.toThrow();
  });

  it('refuses another provider, and a schema without a datasource', () => {
    const error = (content: string) => {
      try {
        assertPostgresSchema(file(content));
      } catch (e) {
        const err = e as { code: string; message: string; fix: string };
        return { code: err.code, message: err.message, fix: err.fix };
      }
      return undefined;
    };
    expect(error('datasource db {\n  provider = "sqlite"\n}\n')).toMatchInlineSnapshot(`
      {
        "code": "E_PROVIDER",
        "fix": "set provider = "postgresql" in the datasource block (stagedb and its schema engine work with PostgreSQL only)",
        "message": "prisma/schema.prisma:2: the datasource provider is "sqlite"; stagedb runs PostgreSQL schemas only",
      }
    `);
    expect(error('datasource db {\n  url = env("X")\n}\n')?.message).toBe('prisma/schema.prisma:1: the datasource provider is missing; stagedb runs PostgreSQL schemas only');
    expect(error('model A {\n  id Int @id\n}\n')).toMatchInlineSnapshot(`
      {
        "code": "E_SCHEMA_NO_DATASOURCE",
        "fix": "add a datasource block to schema.prisma: datasource db { provider = "postgresql" }   (on separate lines)",
        "message": "prisma/schema.prisma has no datasource block",
      }
    `);
  });
});

describe('writeMigrationFiles', () => {
  it('writes migration.sql exactly as given and the lock file Prisma writes, and nothing else', () => {
    const root = tmp();
    const migrations = join(root, 'prisma', 'migrations');
    const path = writeMigrationFiles(migrations, { directoryName: '20250101000000_init', script: '-- CreateTable\r\nCREATE TABLE "A" ();' });
    expect(path).toBe(join(migrations, '20250101000000_init'));
    expect(readFileSync(join(path, 'migration.sql'), 'utf8')).toBe('-- CreateTable\r\nCREATE TABLE "A" ();');
    expect(readFileSync(join(migrations, 'migration_lock.toml'), 'utf8')).toBe(migrationLockToml());
    expect(readdirSync(join(root, 'prisma'))).toEqual(['migrations']);
  });

  it('refuses an existing directory, and leaves no half-written one when writing fails', () => {
    const migrations = join(tmp(), 'migrations');
    writeMigrationFiles(migrations, { directoryName: '20250101000000_init', script: 'x' });
    expect(() => writeMigrationFiles(migrations, { directoryName: '20250101000000_init', script: 'y' })).toThrow(/already exists/);
    expect(readFileSync(join(migrations, '20250101000000_init', 'migration.sql'), 'utf8')).toBe('x');

    if (process.getuid?.() === 0) return; // root writes anywhere: the failure below cannot be provoked
    chmodSync(migrations, 0o555);
    try {
      expect(() => writeMigrationFiles(migrations, { directoryName: '20250102000000_next', script: 'z' })).toThrow();
    } finally {
      chmodSync(migrations, 0o755);
    }
    expect(existsSync(join(migrations, '20250102000000_next'))).toBe(false);
    expect(readdirSync(join(migrations, '..'))).toEqual(['migrations']);
  });

  it('ensureMigrationLock writes the lock file only when it is missing', () => {
    const migrations = join(tmp(), 'migrations');
    mkdirSync(migrations);
    expect(ensureMigrationLock(migrations)).toBe(true);
    writeFileSync(join(migrations, 'migration_lock.toml'), 'provider = "postgresql"\n');
    expect(ensureMigrationLock(migrations)).toBe(false);
    expect(readFileSync(join(migrations, 'migration_lock.toml'), 'utf8')).toBe('provider = "postgresql"\n');
  });
});
