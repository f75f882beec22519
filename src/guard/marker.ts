import type { Client } from 'pg';
import type { Protection } from '../config/define.js';
import type { ResolvedEnvironment } from '../config/environments.js';
import { StagedbError } from '../errors.js';
import { quoteIdent } from '../pg/quote-ident.js';

/**
 * The protection marker stored in the target database itself, as two database-level settings:
 * `stagedb.protection` and `stagedb.environment` (ALTER DATABASE … SET). They create no object in any
 * schema, so Prisma's drift detection never sees them, and every new session reads them for free
 * (`current_setting`). A config whose URL points at a database marked stricter than the config's own
 * protection is refused: a wrong URL in a development config cannot treat production as development.
 */
export interface Marker {
  protection?: Protection;
  environment?: string;
}

const RANK: Record<Protection, number> = { none: 0, guarded: 1, production: 2 };

export async function readMarker(client: Client): Promise<Marker> {
  const r = await client.query<{ p: string | null; e: string | null }>(
    `SELECT current_setting('stagedb.protection', true) AS p, current_setting('stagedb.environment', true) AS e`,
  );
  const row = r.rows[0];
  const p = row?.p;
  return {
    protection: p === 'none' || p === 'guarded' || p === 'production' ? p : undefined,
    environment: row?.e || undefined,
  };
}

/** Refuses when the database is marked stricter than the environment that is about to change it. */
export function checkMarker(marker: Marker, env: Pick<ResolvedEnvironment, 'name' | 'protection'>): void {
  if (!marker.protection || RANK[marker.protection] <= RANK[env.protection]) return;
  throw new StagedbError(
    'guard',
    'E_PROTECTION_MISMATCH',
    `${env.name}: this database is marked "${marker.protection}"${marker.environment ? ` (environment ${marker.environment})` : ''}, but environment ${env.name} has protection "${env.protection}": its URL probably points at the wrong database`,
    {
      fix: marker.environment
        ? `check ${env.name}'s URL; to act on ${marker.environment}, use --env ${marker.environment}`
        : `check ${env.name}'s URL, or set protection: '${marker.protection}' for ${env.name} in the config`,
    },
  );
}

/**
 * Marks the database with the environment's protection when it is guarded or production and not yet
 * marked as strictly. Needs ownership of the database; without it the marker is skipped and the reason
 * returned as a warning (the config's protection still applies).
 */
export async function markDatabase(client: Client, env: Pick<ResolvedEnvironment, 'name' | 'protection'>, current: Marker): Promise<string | undefined> {
  if (env.protection === 'none') return undefined;
  if (current.protection && RANK[current.protection] >= RANK[env.protection] && current.environment === env.name) return undefined;
  try {
    const db = (await client.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    await client.query(`ALTER DATABASE ${quoteIdent(db)} SET stagedb.protection = ${client.escapeLiteral(env.protection)}`);
    await client.query(`ALTER DATABASE ${quoteIdent(db)} SET stagedb.environment = ${client.escapeLiteral(env.name)}`);
    return undefined;
  } catch (e) {
    return `${env.name}: could not store the protection marker in the database (${(e as Error).message}); ALTER DATABASE needs the database owner`;
  }
}
