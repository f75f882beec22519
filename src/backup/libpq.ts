/**
 * How pg_dump and pg_restore are pointed at a database: a libpq URL without the password on the
 * command line (where `ps` would show it to every user of the machine), the password in PGPASSWORD,
 * and none of Prisma's own URL parameters (libpq refuses unknown ones: `invalid URI query parameter`).
 */
const LIBPQ_PARAMS = new Set([
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'sslcompression',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'requiressl',
  'gssencmode',
  'krbsrvname',
  'channel_binding',
  'connect_timeout',
  'options',
  'target_session_attrs',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'host',
  'hostaddr',
  'port',
  'passfile',
  'service',
]);

export interface ToolConnection {
  /** For `--dbname=`: no password in it. */
  dbname: string;
  /** The child's environment: no inherited PG* variables (a stray PGHOST must not redirect it), the password, C messages. */
  env: NodeJS.ProcessEnv;
}

/**
 * @param settings server settings for the tool's sessions (`-c name=value` in libpq's `options`),
 *   added to the URL's own `options` when it has some.
 */
export function toolConnection(url: string, applicationName: string, processEnv: NodeJS.ProcessEnv = process.env, settings: Record<string, string> = {}): ToolConnection {
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = '';
  const params = [...u.searchParams].filter(([k]) => LIBPQ_PARAMS.has(k));
  const extra = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`);
  if (extra.length > 0) {
    const i = params.findIndex(([k]) => k === 'options');
    if (i >= 0) params[i] = ['options', `${params[i]![1]} ${extra.join(' ')}`];
    else params.push(['options', extra.join(' ')]);
  }
  params.push(['application_name', applicationName.slice(0, 63)]);
  if (!params.some(([k]) => k === 'connect_timeout')) params.push(['connect_timeout', '10']);
  // Percent-encoded by hand: URLSearchParams writes a space as "+", which libpq keeps as a "+".
  u.search = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  // libpq reads postgres:// and postgresql:// alike.
  u.protocol = 'postgresql:';
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(processEnv)) if (!k.startsWith('PG')) env[k] = v;
  if (password) env.PGPASSWORD = password;
  else if (processEnv.PGPASSWORD) env.PGPASSWORD = processEnv.PGPASSWORD; // what node-postgres would use too
  if (processEnv.PGPASSFILE) env.PGPASSFILE = processEnv.PGPASSFILE;
  // English messages, so a full disk or a lock timeout can be recognised in pg_dump's stderr.
  env.LC_ALL = 'C';
  env.LANG = 'C';
  delete env.LANGUAGE;
  return { dbname: u.toString(), env };
}

/**
 * {@link toolConnection}, and for an environment with `iamAuth` (docs/aws.md): the token as
 * PGPASSWORD, the role it is for, and `verify-full` TLS with the CA bundle — what every other
 * stagedb connection to it uses. pg_dump reads PGPASSWORD once, at login; a dump outlives its token
 * without harm (RDS checks it at login only).
 */
export async function toolConnectionFor(url: string, applicationName: string, processEnv: NodeJS.ProcessEnv = process.env, settings: Record<string, string> = {}): Promise<ToolConnection> {
  const conn = toolConnection(url, applicationName, processEnv, settings);
  const u = new URL(url);
  const { iamAuthFor } = await import('../aws/iam-token.js');
  const iam = iamAuthFor(u.hostname, u.port ? Number(u.port) : 5432, decodeURIComponent(u.username));
  if (!iam) return conn;
  const d = new URL(conn.dbname);
  d.username = encodeURIComponent(iam.provider.username);
  const params = new URLSearchParams(d.search);
  params.set('sslmode', 'verify-full');
  if (iam.caBundle) params.set('sslrootcert', iam.caBundle);
  d.search = [...params].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return { dbname: d.toString(), env: { ...conn.env, PGPASSWORD: await iam.provider.get() } };
}
