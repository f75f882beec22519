import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/lint/rules/index.js';
import { CASES, CLAIMLESS, findingOf } from '../helpers/lock-oracle-cases.js';
import { claimName, disagreements, oracleFor, outsideTransaction, RANK } from '../helpers/lock-oracle.js';

/**
 * The lock oracle (issue 20): every rule's claim — the locks it names, "rewrites", "reads every row",
 * whether reads and writes wait, the error it fails with — is checked against PostgreSQL itself, on the
 * fixture's real tables (test/helpers/lock-oracle.ts; the cases in lock-oracle-cases.ts). Every safe
 * alternative a rule prints is checked in lint-oracle-fixes.test.ts. One database; the fixture once, and a schema of its own for a case that changes it.
 */

// The fixture once, for every case that leaves it as it found it (a statement run in a transaction
// that is rolled back); a case with its own setup, or one that commits, gets a schema of its own.
const { o, schema } = oracleFor('lint_oracle', (oracle) => oracle.fresh('base'));

describe('the lock oracle: each rule’s claim against PostgreSQL 15', () => {
  it('covers every rule', () => {
    const covered = new Set([...CASES.map((c) => c.code), ...CLAIMLESS.map((c) => c.code)]);
    expect(RULES.map((r) => r.code).filter((code) => !covered.has(code))).toEqual([]);
  });

  for (const c of CASES) {
    it(`${c.code} ${c.what}`, async () => {
      if (c.setup || c.files.some(outsideTransaction)) await o().fresh(schema(), c.setup);
      else await o().use('base');
      const result = await o().lint(c.files, c);
      const f = findingOf(c, result.findings);
      const claim = f.claim!;
      expect(claim, `${c.code} makes no claim`).toBeDefined();
      // The file as it runs: a file with CONCURRENTLY runs statement by statement, so only the statement itself.
      const file = c.files[c.files.length - 1]!;
      const last = outsideTransaction(file) && !outsideTransaction(f.statement) ? `${f.statement};` : file;
      if (claim.fails) {
        // As the file runs: a file with its own BEGIN/COMMIT is one script; otherwise one transaction.
        if (/^\s*BEGIN;/i.test(last)) {
          const err = await o().a.query(last).then(
            () => undefined,
            (e: { code?: string }) => e.code,
          );
          await o().a.query('ROLLBACK').catch(() => {});
          expect(err).toBe(claim.fails);
        } else expect((await o().observe(last, [])).error).toBe(claim.fails);
        return;
      }
      if (outsideTransaction(last)) {
        // Runs outside a transaction block: watch the mode it waits for behind a session holding the table.
        const w = await o().waitMode(last, c.main, c.hold);
        const mine = claim.locks.find((l) => claimName(l.on) === w.rel);
        expect(mine?.mode, `${c.code}: waited for ${w.mode} on ${w.rel}`).toBe(w.mode);
        expect(RANK[w.mode] >= RANK['ACCESS EXCLUSIVE']).toBe(claim.blocksReads);
        expect(w.error).toBeUndefined();
        expect(w.rewritten).toBe(claim.rewrites);
        return;
      }
      const obs = await o().observe(last, [c.main]);
      expect(obs.error, obs.errorMessage).toBeUndefined();
      expect(disagreements(claim, obs, c.main, c.alias)).toEqual([]);
    });
  }

  for (const c of CLAIMLESS) {
    it(`${c.code} fires (${c.why}: no lock claim)`, async () => {
      await o().use('base');
      const r = await o().lint(c.files, { severities: c.severities });
      const f = r.findings.find((x) => x.code === c.code);
      expect(f).toBeDefined();
      expect(f!.claim).toBeUndefined();
    });
  }
});

describe('the lock oracle: PostgreSQL facts behind the fixes of issue 20', () => {
  it('SET NOT NULL with a validated CHECK (col IS NOT NULL) reads no row, and lint says nothing (SDB007 false positive)', async () => {
    await o().fresh(schema(), 'ALTER TABLE "Post" ADD CONSTRAINT "Post_body_not_null" CHECK (body IS NOT NULL);');
    const sql = 'ALTER TABLE "Post" ALTER COLUMN body SET NOT NULL;';
    expect((await o().lint([sql])).findings.filter((f) => f.code === 'SDB007' || f.code === 'SDB027')).toEqual([]);
    const obs = await o().observe(sql, ['Post']);
    expect(obs.scanned.has('Post')).toBe(false);
    expect(obs.locks.get('Post')).toBe('ACCESS EXCLUSIVE');
  });

  it("DETACH PARTITION … CONCURRENTLY's second phase waits for ACCESS EXCLUSIVE on the partition, as SDB036's alternative says", async () => {
    await o().fresh(schema());
    const f = findingOf(CASES.find((c) => c.code === 'SDB036')!, (await o().lint(['ALTER TABLE "Event" DETACH PARTITION "Event_2020";'])).findings);
    expect(f.fix).toContain('ACCESS EXCLUSIVE on "Event_2020"');
    // A read of the partition alone holds ACCESS SHARE on it (not on the parent): the first phase passes, the second waits.
    const w = await o().waitMode('ALTER TABLE "Event" DETACH PARTITION "Event_2020" CONCURRENTLY;', 'Event_2020', 'SELECT count(*) FROM "Event_2020"');
    expect(w).toMatchObject({ rel: 'Event_2020', mode: 'ACCESS EXCLUSIVE' });
  });
});

