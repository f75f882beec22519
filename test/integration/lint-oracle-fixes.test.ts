import { describe, expect, it } from 'vitest';
import { CASES, findingOf, WORDS } from '../helpers/lock-oracle-cases.js';
import { atError, claimName, disagreements, fixSteps, oracleFor, outsideTransaction, RANK } from '../helpers/lock-oracle.js';

/**
 * The lock oracle, second half (issue 20): every safe alternative a rule prints, for the cases of
 * test/helpers/lock-oracle-cases.ts, must pass stagedb's own gate (`lint --env` with every table judged
 * large: no error), run on PostgreSQL without an error, and never read or rewrite a table under a lock
 * that blocks the application unless lint says so in a finding whose claim PostgreSQL confirms.
 * (Split from lint-oracle.test.ts so the two halves run in parallel.)
 */

const { o, schema } = oracleFor('lint_oracle_fix');

describe('the lock oracle: every printed safe alternative passes stagedb’s own gate and does what lint says on PostgreSQL 15', () => {
  for (const c of CASES) {
    it(`${c.code} ${c.what}: the safe alternative`, async () => {
      const name = schema();
      await o().fresh(name, c.setup);
      const f = findingOf(c, (await o().lint(c.files, c)).findings);
      const key = WORDS.has(c.code) ? c.code : WORDS.has(`${c.code} ${c.what}`) ? `${c.code} ${c.what}` : undefined;
      const { alternatives, words } = fixSteps(f.fix ?? '');
      if (key) {
        // Words only: no statement to run (a comment, or SQL around a placeholder).
        expect(alternatives.length === 0 || words, `${c.code}'s alternative has SQL to run: list it out of WORDS`).toBe(true);
        return;
      }
      expect(words, `${c.code}'s alternative has a placeholder`).toBe(false);
      expect(alternatives.length, `${c.code} prints no runnable alternative`).toBeGreaterThan(0);
      for (const [i, steps] of alternatives.entries()) {
        if (i > 0) await o().fresh(schema(), c.setup);
        if (c.prelude) await o().a.query(c.prelude);
        // The gate: each step a migration of its own, deploying together, every table judged large.
        const gate = await o().lint(steps, c);
        expect(atError([...gate.findings]), `${c.code} alternative ${i + 1}:\n${steps.join('\n')}`).toEqual([]);
        const claims = [...gate.findings, ...gate.suppressed];
        for (const [k, step] of steps.entries()) {
          const said = claims.filter((x) => x.file === `m${k + 1}.sql` && x.claim);
          if (outsideTransaction(step)) {
            // Runs outside a transaction: the first lock it waits for must not block the application (or be claimed).
            const w = await o().waitMode(step, c.main);
            expect(w.error, step).toBeUndefined();
            const claimed = said.some((x) => x.claim!.locks.some((l) => claimName(l.on) === w.rel && l.mode === w.mode));
            expect(RANK[w.mode] < RANK.SHARE || claimed, `${step}: waits for ${w.mode} on ${w.rel}`).toBe(true);
            continue;
          }
          const obs = await o().observe(step, [c.main], true);
          expect(obs.error, `${step}: ${obs.errorMessage}`).toBeUndefined();
          for (const x of said) expect(disagreements(x.claim!, obs, c.main, c.alias), `${x.code} on ${step}`).toEqual([]);
          // No silent hazard: reading or rewriting a table under a lock that blocks the app must be a finding.
          for (const t of [...obs.scanned, ...obs.rewritten]) {
            const mode = obs.locks.get(t);
            if (mode && RANK[mode] >= RANK.SHARE) expect(said.length, `${step} reads or rewrites ${t} under ${mode}, and lint says nothing`).toBeGreaterThan(0);
          }
        }
      }
    });
  }
});
