import { parseDatabaseUrl } from '../../config/url.js';
import { StagedbError } from '../../errors.js';
import { connect } from '../../pg/connect.js';
import type { CheckOutcome, DoctorCheck } from '../types.js';

/** Replay lag above which a replica's reads are called stale (a read-your-writes surprise for users). */
const STALE_SECONDS = 30;
/** How long a standby that looks behind is given to replay what it had received, before it is called stale. */
const RESAMPLE_MS = 1000;

interface ReplicaFinding {
  n: number;
  problem?: string;
  detail: string;
}

/**
 * DOC015: each read replica the environment lists (config `replicas`, used by stagedb/client) answers
 * and is a hot standby. A replica that cannot be reached costs nothing but offload — the client sends
 * its reads to the primary — and a "replica" that is writable is usually the primary's own URL pasted
 * twice, so both warn rather than fail. Lag is measured where it means something: a standby whose last
 * replayed transaction is old while the primary has WAL it has not replayed.
 */
export const readReplicas: DoctorCheck = {
  code: 'DOC015',
  name: 'read-replicas',
  // Not behind the primary's connection checks: a standby is worth checking while the primary is down.
  requires: ['DOC003'],
  async run(s): Promise<CheckOutcome> {
    const env = s.env!;
    if (env.replicas.length === 0) return { status: 'ok', detail: 'no read replicas configured (reads go to the primary)' };
    const primary = `${env.directInfo.host}:${env.directInfo.port}`;
    const findings = await Promise.all(env.replicas.map((url, i) => inspectReplica(url, i + 1, env.name, primary, s.timeoutMs)));
    const bad = findings.filter((f) => f.problem);
    const detail = findings.map((f) => f.detail).join('; ');
    if (bad.length === 0) return { status: 'ok', detail };
    return {
      status: 'warn',
      detail,
      fix: bad.map((f) => f.problem).join('; '),
    };
  },
};

/**
 * One replica. "Stale" needs two looks: an idle standby's last replayed transaction can be minutes old, and
 * at any instant it may have received a WAL record (a checkpoint, a running-transactions snapshot) it has
 * not replayed yet — one sample of both once called a caught-up standby stale right after a load. So a
 * standby that looks behind is asked again `resampleMs` later whether it has replayed what it had received
 * at the first look; only one that has not is stale.
 */
export async function inspectReplica(
  url: string,
  n: number,
  envName: string,
  primary: string,
  timeoutMs: number,
  opts: { staleSeconds?: number; resampleMs?: number } = {},
): Promise<ReplicaFinding> {
  const staleSeconds = opts.staleSeconds ?? STALE_SECONDS;
  const info = parseDatabaseUrl(url, `environments.${envName}.replicas.${n - 1}`);
  const where = `${info.host}:${info.port}`;
  let client;
  try {
    client = await connect(url, { label: `${envName} replica ${n}`, purpose: 'doctor', connectTimeoutMs: timeoutMs });
  } catch (e) {
    if (!(e instanceof StagedbError)) throw e;
    return {
      n,
      detail: `replica ${n} (${where}) cannot be reached: ${e.message}`,
      problem: `replica ${n}: ${e.fix ?? 'check the URL and that the standby runs'} (until then stagedb/client sends its reads to the primary)`,
    };
  }
  try {
    const r = await client.query<{ standby: boolean; lag: number | null; behind: boolean; received: string | null; paused: boolean }>(
      `SELECT pg_is_in_recovery() AS standby,
              CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag,
              CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn() ELSE false END AS behind,
              CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()::text END AS received,
              CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS paused`,
    );
    const { standby, lag, behind, received, paused } = r.rows[0]!;
    if (!standby) {
      const same = where === primary;
      return {
        n,
        detail: `replica ${n} (${where}) is not a standby: it accepts writes${same ? ' — it is the primary itself' : ''}`,
        problem: `replica ${n}: point it at a hot standby (an RDS read replica's endpoint, an Aurora reader endpoint), or remove it from environments.${envName}.replicas`,
      };
    }
    const lagText = lag === null ? 'nothing replayed yet' : `last replayed transaction ${lag.toFixed(1)} s ago`;
    if (behind && lag !== null && lag > staleSeconds && received !== null) {
      await new Promise((res) => setTimeout(res, opts.resampleMs ?? RESAMPLE_MS));
      const again = await client.query<{ caught: boolean; paused: boolean }>(
        'SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS caught, pg_is_wal_replay_paused() AS paused',
        [received],
      );
      if (again.rows[0]!.caught) return { n, detail: `replica ${n} (${where}) is a standby, caught up (it replayed all it had received within ${((opts.resampleMs ?? RESAMPLE_MS) / 1000).toFixed(1)} s)` };
      const isPaused = paused || again.rows[0]!.paused;
      return {
        n,
        detail: `replica ${n} (${where}) is a standby, ${lagText}, and has not replayed the WAL it had received ${((opts.resampleMs ?? RESAMPLE_MS) / 1000).toFixed(1)} s earlier${isPaused ? ' (replay is paused)' : ''}: its reads are stale`,
        problem: isPaused
          ? `replica ${n}: replay was paused on the standby: resume it with SELECT pg_wal_replay_resume(); use $primary() for reads that must see recent writes`
          : `replica ${n}: look at the standby's replay (pg_stat_wal_receiver, a long query holding replay back, max_standby_streaming_delay); use $primary() for reads that must see recent writes`,
      };
    }
    return { n, detail: `replica ${n} (${where}) is a standby, ${lagText}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}
