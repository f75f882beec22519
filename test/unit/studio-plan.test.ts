/**
 * How `stagedb studio` hands an environment to Prisma Studio: the URL postgres.js gets (read-only
 * server option, no password, libpq-only parameters removed, sslmode mapped), the variables the
 * child gets, and which mode wins and why.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvironmentConfig } from '../../src/config/define.js';
import { resolveEnvironment } from '../../src/config/environments.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import { StagedbError } from '../../src/errors.js';
import { describePlan, planStudio, studioUrl } from '../../src/studio/plan.js';
import { parsePort } from '../../src/studio/port.js';

const ROOT = join(tmpdir(), 'stagedb-studio-unit-no-project');
const PROD = 'postgresql://app:s3cret-pw@db.example.com:5432/shop?sslmode=require&schema=app&connection_limit=5';

function envOf(name: string, def: EnvironmentConfig, processEnv: NodeJS.ProcessEnv = {}) {
  const config: ResolvedConfig = {
    root: ROOT,
    schemaPath: join(ROOT, 'prisma', 'schema.prisma'),
    migrationsDir: join(ROOT, 'prisma', 'migrations'),
    environments: { [name]: def },
    warnings: [],
  };
  return resolveEnvironment(config, name, { processEnv });
}

function thrown(f: () => unknown): StagedbError {
  try {
    f();
  } catch (e) {
    return e as StagedbError;
  }
  throw new Error('expected a throw');
}

describe('studioUrl', () => {
  it('read-only: the server option in the startup packet, the password out of the URL, Prisma-only parameters dropped', () => {
    const r = studioUrl(PROD, { mode: 'read-only', cwd: '/work', label: 'production' });
    expect(r.url).toBe('postgresql://app@db.example.com:5432/shop?sslmode=require&options=-c%20default_transaction_read_only%3Don&application_name=stagedb%20studio');
    expect(r.childEnv).toEqual({ PGPASSWORD: 's3cret-pw' });
    // What postgres.js will read back from that URL.
    const params = new URL(r.url).searchParams;
    expect(params.get('options')).toBe('-c default_transaction_read_only=on');
    expect(params.get('application_name')).toBe('stagedb studio');
    expect(r.url).not.toContain('s3cret');
  });

  it('read-write adds no server option; the URL\'s own options are kept, and read-only comes after them', () => {
    expect(studioUrl('postgresql://u@h/db', { mode: 'read-write', cwd: '/', label: 'x' }).url).toBe('postgresql://u@h/db?sslmode=prefer&application_name=stagedb%20studio');
    const withOptions = studioUrl('postgresql://u@h/db?options=-c%20statement_timeout%3D5000', { mode: 'read-only', cwd: '/', label: 'x' });
    expect(new URL(withOptions.url).searchParams.get('options')).toBe('-c statement_timeout=5000 -c default_transaction_read_only=on');
    expect(withOptions.childEnv).toEqual({});
  });

  it('a percent-encoded password reaches PGPASSWORD decoded', () => {
    expect(studioUrl('postgresql://u:p%40ss%20word@h/db', { mode: 'read-only', cwd: '/', label: 'x' }).childEnv.PGPASSWORD).toBe('p@ss word');
  });

  it('libpq-only parameters never reach postgres.js (it would send them to the server as settings)', () => {
    const r = studioUrl('postgresql://u@h/db?sslmode=require&channel_binding=require&gssencmode=disable&connect_timeout=7&target_session_attrs=read-write&pgbouncer=true', { mode: 'read-write', cwd: '/', label: 'x' });
    expect([...new URL(r.url).searchParams.keys()]).toEqual(['connect_timeout', 'target_session_attrs', 'sslmode', 'application_name']);
  });

  it("maps libpq's sslmode onto postgres.js's, never weaker", () => {
    const mode = (q: string) => new URL(studioUrl(`postgresql://u@h/db${q}`, { mode: 'read-write', cwd: '/proj', label: 'x' }).url).searchParams.get('sslmode');
    expect(mode('')).toBe('prefer');
    expect(mode('?sslmode=disable')).toBe('disable');
    expect(mode('?sslmode=allow')).toBe('prefer');
    expect(mode('?sslmode=require')).toBe('require');
    expect(mode('?sslmode=verify-full')).toBe('verify-full');
    expect(mode('?sslmode=verify-ca')).toBe('verify-full');
    expect(mode('?sslrootcert=system')).toBe('verify-full');
  });

  it('a private CA (sslrootcert) reaches Studio through NODE_EXTRA_CA_CERTS, resolved against the working directory', () => {
    const r = studioUrl('postgresql://u@h/db?sslmode=verify-ca&sslrootcert=certs/rds.pem', { mode: 'read-only', cwd: '/proj', label: 'x' });
    expect(new URL(r.url).searchParams.get('sslmode')).toBe('verify-full');
    expect(new URL(r.url).searchParams.has('sslrootcert')).toBe(false);
    expect(r.childEnv).toEqual({ NODE_EXTRA_CA_CERTS: '/proj/certs/rds.pem' });
    expect(r.notes).toEqual(["sslmode=verify-ca with sslrootcert: Studio's driver also checks the server's host name against its certificate"]);
  });

  it('client certificates and unknown sslmodes are refused with what to do', () => {
    const e = thrown(() => studioUrl('postgresql://u@h/db?sslcert=a.crt&sslkey=a.key', { mode: 'read-only', cwd: '/', label: 'production (directUrl)' }));
    expect([e.code, e.message, e.fix]).toMatchInlineSnapshot(`
      [
        "E_STUDIO_TLS",
        "production (directUrl): the URL uses a TLS client certificate (sslcert/sslkey), which Prisma Studio's driver cannot read from a URL",
        "give Studio a URL that authenticates by password: set studioUrl for this environment (ideally a role with SELECT only)",
      ]
    `);
    expect(thrown(() => studioUrl('postgresql://u@h/db?sslmode=sometimes', { mode: 'read-only', cwd: '/', label: 'x' })).code).toBe('E_TLS');
  });
});

describe('planStudio: which mode, and why', () => {
  it('production is read-only, staging and development read-write, by protection', () => {
    const prod = planStudio(envOf('production', { url: PROD }), { cwd: '/' });
    expect([prod.mode, prod.reason, prod.source]).toEqual(['read-only', 'production has protection production', 'url']);
    expect(describePlan(prod)).toBe('read-only (production has protection production), as app@db.example.com:5432/shop via url');
    const staging = planStudio(envOf('staging', { url: 'postgresql://u:pw12345@h/db' }), { cwd: '/' });
    expect([staging.mode, staging.reason]).toEqual(['read-write', 'staging has protection guarded']);
    expect(new URL(staging.url).searchParams.get('options')).toBeNull();
  });

  it("the config's studio setting wins over the default, both ways", () => {
    expect(planStudio(envOf('staging', { url: 'postgresql://u@h/db', studio: 'read-only' }), { cwd: '/' })).toMatchObject({ mode: 'read-only', reason: "the config sets studio: 'read-only' for staging" });
    expect(planStudio(envOf('production', { url: PROD, studio: 'read-write' }), { cwd: '/' })).toMatchObject({ mode: 'read-write', reason: "the config sets studio: 'read-write' for production" });
  });

  it('a database marked production opens read-only even from an environment that says otherwise; --read-only always does', () => {
    const dev = envOf('development', { url: 'postgresql://u@h/db' });
    expect(planStudio(dev, { cwd: '/', databaseMarker: 'production' })).toMatchObject({
      mode: 'read-only',
      reason: 'the database is marked "production" (its protection marker), although development has protection none: check its URL',
    });
    expect(planStudio(dev, { cwd: '/', databaseMarker: 'guarded' }).mode).toBe('read-write');
    expect(planStudio(dev, { cwd: '/', forceReadOnly: true })).toMatchObject({ mode: 'read-only', reason: '--read-only' });
  });

  it('studioUrl is used instead of the direct URL, and held to the environment\'s TLS minimum', () => {
    const reader = 'postgresql://reader:rd-pass-1@db.example.com/shop?sslmode=verify-full';
    const p = planStudio(envOf('production', { url: PROD, studioUrl: { $env: 'STUDIO_URL' } }, { STUDIO_URL: reader }), { cwd: '/' });
    expect([p.source, p.display, p.childEnv.PGPASSWORD, p.mode]).toEqual(['studioUrl (env STUDIO_URL)', 'reader@db.example.com:5432/shop', 'rd-pass-1', 'read-only']);
    const weak = thrown(() => planStudio(envOf('production', { url: PROD, studioUrl: 'postgresql://reader:x@db.example.com/shop' }), { cwd: '/' }));
    expect([weak.code, weak.message]).toEqual(['E_SSL_REQUIRED', 'environment production requires sslmode=require or stronger, but its studioUrl has sslmode=prefer']);
  });
});

describe('parsePort', () => {
  it('takes 1–65535 and nothing else', () => {
    expect(parsePort('5555')).toBe(5555);
    for (const bad of ['0', '65536', 'abc', '55.5', '-1', '']) expect(thrown(() => parsePort(bad)).code).toBe('E_USAGE');
  });
});
