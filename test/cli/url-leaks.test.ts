import { afterAll, describe, expect, it } from 'vitest';
import { forbidInOutput, runCli } from '../helpers/cli.js';
import { createProject, type ProjectSpec, type TempProject } from '../helpers/project.js';

/**
 * Issue 12.4: a URL that does not parse must never be echoed, wherever it came from. Each malformed
 * shape below hides a canary password made of distinctive pieces; a piece in any output of any run
 * fails the test (runCli checks every string given to forbidInOutput), and the error must still say
 * which setting (and which variable or file) is wrong.
 */
const PIECES = ['Cn1Alpha', 'Cn2Bravo', 'Cn3Charlie', 'Cn4Delta', 'Cn5Echo', 'Cn6Fox'];
forbidInOutput(...PIECES);

const MALFORMED = [
  // The password is all that follows "app:" up to the host; one slash makes it no URL at all.
  'postgresql:/app:Cn1Alpha@db.internal/app',
  'not a url Cn2Bravo',
  // Unencoded @ and # in the password: the parser would take Cn4Delta for the host.
  'postgresql://app:Cn3Charlie@Cn4Delta#Cn5Echo@db.internal/app',
  // An unencoded @ and / : the parser would take Cn6Fox… for the database name.
  'postgresql://app:Cn1Alpha@Cn2Bravo/Cn6Fox@db.internal/app',
];

const MIGRATIONS = { '20240101000000_init': `CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\n` };
const projects: TempProject[] = [];
afterAll(() => {
  for (const p of projects) p.remove();
});
function project(spec: ProjectSpec): TempProject {
  const p = createProject({ migrations: MIGRATIONS, ...spec });
  projects.push(p);
  return p;
}

/** The URL written in a file as is (createProject's env files wrap values in double quotes). */
const envLine = (url: string) => `DATABASE_URL='${url}'\n`;

/** The message must name where the bad value is and say it is malformed; exit 3. */
function expectMalformed(r: { code: number | null; all: string }, where: RegExp) {
  expect(r.code, r.all).toBe(3);
  expect(r.all).toMatch(/E_URL_MALFORMED|is not a valid URL|has one slash|has no host|is not a URL/);
  expect(r.all).toMatch(where);
}

describe.each(MALFORMED)('a malformed URL never shows its password: %s', (url) => {
  it('from the config file', async () => {
    const p = project({ configJson: { environments: { development: { url } } } });
    expectMalformed(await runCli(['status'], { cwd: p.dir }), /environments\.development\.url \(written in stagedb\.config\.json\)/);
    expectMalformed(await runCli(['status', '--json'], { cwd: p.dir }), /environments\.development\.url/);
  });

  it('from .env', async () => {
    const p = project({ files: { '.env': envLine(url) } });
    expectMalformed(await runCli(['status'], { cwd: p.dir }), /DATABASE_URL from \.env\b/);
    expectMalformed(await runCli(['migrate', 'deploy'], { cwd: p.dir }), /DATABASE_URL from \.env\b/);
  });

  it('from .env.<name>', async () => {
    const p = project({ files: { '.env.staging': envLine(url) } });
    expectMalformed(await runCli(['status', '--env', 'staging'], { cwd: p.dir }), /DATABASE_URL from \.env\.staging/);
    expectMalformed(await runCli(['deploy', '--env', 'staging'], { cwd: p.dir }), /DATABASE_URL from \.env\.staging/);
  });

  it('from the shell', async () => {
    const p = project({});
    expectMalformed(await runCli(['status'], { cwd: p.dir, env: { DATABASE_URL: url } }), /DATABASE_URL from the shell/);
  });

  it('from --url', async () => {
    const p = project({});
    expectMalformed(await runCli(['migrate', 'deploy', '--url', url], { cwd: p.dir }), /--url/);
  });

  it('from --scratch-url', async () => {
    const p = project({});
    expectMalformed(await runCli(['backup', 'verify', '--deep', '--scratch-url', url], { cwd: p.dir }), /--scratch-url/);
  });

  it('from prisma.config.ts (a literal url, and env() read from .env)', async () => {
    const literal = project({ files: { 'prisma.config.ts': `export default { schema: 'prisma/schema.prisma', datasource: { url: ${JSON.stringify(url)} } };\n` } });
    expectMalformed(await runCli(['status'], { cwd: literal.dir }), /environments\.development\.url \(written in prisma\.config\.ts\)/);
    const viaEnv = project({
      files: {
        'prisma.config.ts': `import { defineConfig, env } from 'prisma/config';\nexport default defineConfig({ schema: 'prisma/schema.prisma', datasource: { url: env('APP_DB_URL') } });\n`,
        '.env': `APP_DB_URL='${url}'\n`,
      },
    });
    expectMalformed(await runCli(['status'], { cwd: viaEnv.dir }), /APP_DB_URL from \.env\b/);
  });

  it('from the schema datasource (Prisma 6: a literal url)', async () => {
    const p = project({ schema: `datasource db {\n  provider = "postgresql"\n  url      = ${JSON.stringify(url)}\n}\n` });
    expectMalformed(await runCli(['status'], { cwd: p.dir }), /environments\.development\.url \(written in prisma\/schema\.prisma\)/);
  });
});

describe('the same URL through every entry point is reported the same way', () => {
  it('a URL whose password holds an encoded @ and # works (the fix the message gives)', async () => {
    const p = project({ files: { '.env': envLine('postgresql://app:Cn3Charlie%40Cn4Delta%23Cn5Echo@127.0.0.1:1/app') } });
    const r = await runCli(['status'], { cwd: p.dir });
    // Parsed: the failure is the connection (nothing listens on port 1), not the URL.
    expect(r.all).not.toMatch(/E_URL_MALFORMED|not a valid URL/);
    expect(r.code).toBe(3);
  });
});
