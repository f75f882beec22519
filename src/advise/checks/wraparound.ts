import type { AdviceCheck, AdviceSeverity } from '../types.js';
import { count } from './shared.js';

/** PostgreSQL stops assigning transaction IDs 3 million short of 2^31 (about 2.1 billion). */
const LIMIT = 2 ** 31 - 3_000_000;

/** How close is too close: above autovacuum_freeze_max_age, anti-wraparound vacuums are already falling behind. */
export function wraparoundSeverity(age: number, freezeMaxAge: number): AdviceSeverity | undefined {
  if (age >= LIMIT * 0.5) return 'critical';
  if (age > freezeMaxAge) return 'warn';
  return undefined;
}

/**
 * ADV008: the transaction-ID wraparound distance of this database (`age(datfrozenxid)`). Past about 2.1
 * billion, PostgreSQL refuses writes until a VACUUM has frozen old rows; anti-wraparound vacuums start at
 * `autovacuum_freeze_max_age` and should keep the age well below it.
 */
export const wraparound: AdviceCheck = {
  code: 'ADV008',
  name: 'wraparound',
  async run(ctx) {
    const { rows } = await ctx.client.query<{ age: string; freeze: string; oldest: string | null; oldest_age: string | null }>(
      `SELECT age(d.datfrozenxid)::text AS age, current_setting('autovacuum_freeze_max_age') AS freeze,
              (SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'm', 't') ORDER BY age(c.relfrozenxid) DESC LIMIT 1) AS oldest,
              (SELECT max(age(c.relfrozenxid))::text FROM pg_class c WHERE c.relkind IN ('r', 'm', 't')) AS oldest_age
         FROM pg_database d WHERE d.datname = current_database()`,
    );
    const r = rows[0]!;
    const age = Number(r.age);
    const severity = wraparoundSeverity(age, Number(r.freeze));
    if (!severity) return [];
    return [
      {
        code: this.code,
        name: this.name,
        severity,
        title: `transaction-ID age ${count(age)}: ${Math.round((100 * age) / LIMIT)} % of the way to the wraparound stop`,
        evidence: [`autovacuum_freeze_max_age ${count(Number(r.freeze))}`, ...(r.oldest ? [`oldest table: ${r.oldest} (age ${count(Number(r.oldest_age))})`] : [])],
        cost: 'at about 2.1 billion PostgreSQL refuses every write until the database is vacuumed',
        fix: `VACUUM (FREEZE, VERBOSE) ${r.oldest ?? ''}`.trim() + '; end long transactions (ADV010) and abandoned replication slots or prepared transactions that hold the horizon back',
      },
    ];
  },
};
