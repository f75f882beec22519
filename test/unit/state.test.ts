import { describe, expect, it } from 'vitest';
import { checksum } from '../../src/history/checksum.js';
import type { LocalMigration } from '../../src/history/local.js';
import { compareHistory } from '../../src/history/state.js';
import type { MigrationRow } from '../../src/history/table.js';

const script = (name: string) => `-- ${name}\nCREATE TABLE "${name}" (id int);\n`;
function local(name: string, text = script(name)): LocalMigration {
  return { name, path: `/p/prisma/migrations/${name}/migration.sql`, script: text, checksum: checksum(text) };
}

const T = (minute: number) => new Date(Date.UTC(2024, 0, 1, 12, minute));
let ids = 0;
/** A `_prisma_migrations` row as Prisma writes it. `at` is the minute it started (and finished, unless failed). */
function row(name: string, at: number, opts: { failed?: boolean; rolledBack?: number; text?: string; checksum?: string; logs?: string } = {}): MigrationRow {
  return {
    id: `id-${++ids}`,
    checksum: opts.checksum ?? checksum(opts.text ?? script(name)),
    finished_at: opts.failed ? null : T(at),
    migration_name: name,
    logs: opts.logs ?? null,
    rolled_back_at: opts.rolledBack === undefined ? null : T(opts.rolledBack),
    started_at: T(at),
    applied_steps_count: opts.failed ? 0 : 1,
  };
}

const A = '20240101000000_init';
const B = '20240102000000_add_posts';
const C = '20240103000000_add_tags';
const D = '20240104000000_add_likes';

const states = (s: ReturnType<typeof compareHistory>) => s.entries.map((e) => [e.name, e.state, ...(e.outOfOrder ? ['out-of-order'] : [])]);

describe('compareHistory', () => {
  it('an empty database: everything pending, nothing applied', () => {
    const s = compareHistory([local(A), local(B)], []);
    expect(states(s)).toEqual([
      [A, 'pending'],
      [B, 'pending'],
    ]);
    expect(s).toMatchObject({ applied: 0, pending: 2, failed: [], modified: [], missingLocally: [], outOfOrder: [], lastApplied: undefined });
  });

  it('applied and pending, with the rows’ times and the local file attached', () => {
    const s = compareHistory([local(A), local(B), local(C)], [row(A, 1), row(B, 2)]);
    expect(states(s)).toEqual([
      [A, 'applied'],
      [B, 'applied'],
      [C, 'pending'],
    ]);
    expect(s.applied).toBe(2);
    expect(s.pending).toBe(1);
    expect(s.entries[0]).toEqual({ name: A, state: 'applied', finishedAt: T(1), startedAt: T(1), local: local(A) });
    expect(s.lastApplied?.name).toBe(B);
  });

  it('up to date: nothing pending', () => {
    const s = compareHistory([local(A), local(B)], [row(A, 1), row(B, 2)]);
    expect(s).toMatchObject({ applied: 2, pending: 0 });
    expect(s.lastApplied).toMatchObject({ name: B, finishedAt: T(2) });
  });

  it('lastApplied is the latest to finish, not the last by name', () => {
    // B was applied after C (merged late, deployed with an allow flag).
    const s = compareHistory([local(A), local(B), local(C)], [row(A, 1), row(C, 2), row(B, 3)]);
    expect(s.lastApplied).toMatchObject({ name: B, finishedAt: T(3) });
  });

  it('a failed migration: finished_at and rolled_back_at both null; its logs are kept', () => {
    const logs = 'Database error code: 42P01\n\nDatabase error:\nERROR: relation "Post" does not exist';
    const s = compareHistory([local(A), local(B), local(C)], [row(A, 1), row(B, 2, { failed: true, logs })]);
    expect(states(s)).toEqual([
      [A, 'applied'],
      [B, 'failed'],
      [C, 'pending'],
    ]);
    expect(s.failed).toEqual([{ name: B, state: 'failed', startedAt: T(2), logs, local: local(B) }]);
    expect(s).toMatchObject({ applied: 1, pending: 1 });
  });

  it('rolled-back rows no longer count: the migration is pending again', () => {
    const s = compareHistory([local(A), local(B)], [row(A, 1), row(B, 2, { failed: true, rolledBack: 3 })]);
    expect(states(s)).toEqual([
      [A, 'applied'],
      [B, 'pending'],
    ]);
    expect(s.failed).toEqual([]);
    expect(s.outOfOrder).toEqual([]);
  });

  it('failed, resolved --rolled-back, fixed and re-applied: applied, checked against the new row', () => {
    const fixed = `${script(B)}ALTER TABLE "${B}" ADD COLUMN x int;\n`;
    const s = compareHistory(
      [local(A), local(B, fixed)],
      [row(A, 1), row(B, 2, { failed: true, rolledBack: 3 }), row(B, 4, { text: fixed })],
    );
    expect(states(s)).toEqual([
      [A, 'applied'],
      [B, 'applied'],
    ]);
    expect(s.entries[1]).toMatchObject({ finishedAt: T(4), startedAt: T(4) });
    expect(s.lastApplied?.name).toBe(B);
  });

  it('a failed row that was never resolved blocks even when a later attempt succeeded (Prisma: P3009)', () => {
    const s = compareHistory([local(A)], [row(A, 1, { failed: true }), row(A, 2)]);
    expect(states(s)).toEqual([[A, 'failed']]);
    expect(s.applied).toBe(0);
  });

  it('modified: an applied file whose checksum no longer matches; still counted as applied', () => {
    const s = compareHistory([local(A, `${script(A)}-- edited after deploy\n`), local(B)], [row(A, 1), row(B, 2)]);
    expect(states(s)).toEqual([
      [A, 'modified'],
      [B, 'applied'],
    ]);
    expect(s.modified.map((e) => e.name)).toEqual([A]);
    expect(s.applied).toBe(2);
  });

  it('a line-ending change or an old unpadded checksum is not a modification', () => {
    const crlf = script(A).replace(/\n/g, '\r\n');
    const unpadded = checksum(script(B)).match(/../g)!.map((p) => p.replace(/^0/, '')).join('');
    const s = compareHistory([local(A, crlf), local(B)], [row(A, 1), row(B, 2, { checksum: unpadded })]);
    expect(states(s)).toEqual([
      [A, 'applied'],
      [B, 'applied'],
    ]);
  });

  it('missing locally: a row for a folder that is not on disk; failed if the row is failed', () => {
    const s = compareHistory([local(A)], [row(A, 1), row(B, 2), row(C, 3, { failed: true, logs: 'boom' })]);
    expect(states(s)).toEqual([
      [A, 'applied'],
      [B, 'missing-locally'],
      [C, 'failed'],
    ]);
    expect(s.missingLocally).toEqual([{ name: B, state: 'missing-locally', finishedAt: T(2), startedAt: T(2), logs: undefined }]);
    expect(s.failed).toEqual([{ name: C, state: 'failed', finishedAt: undefined, startedAt: T(3), logs: 'boom' }]);
    expect(s.applied).toBe(1);
  });

  it('a name with several rows missing locally is listed once', () => {
    const s = compareHistory([], [row(B, 1, { failed: true, rolledBack: 2 }), row(B, 3), row(B, 4)]);
    expect(states(s)).toEqual([[B, 'missing-locally']]);
  });

  it('out of order: a pending migration that sorts before the newest applied one', () => {
    const s = compareHistory([local(A), local(B), local(C), local(D)], [row(A, 1), row(C, 2)]);
    expect(states(s)).toEqual([
      [A, 'applied'],
      [B, 'pending', 'out-of-order'],
      [C, 'applied'],
      [D, 'pending'],
    ]);
    expect(s.outOfOrder.map((e) => e.name)).toEqual([B]);
    expect(s.pending).toBe(2);
  });

  it('out of order is judged against applied rows missing locally too, and never against failed or rolled-back ones', () => {
    expect(compareHistory([local(A)], [row(B, 1)]).outOfOrder.map((e) => e.name)).toEqual([A]);
    expect(compareHistory([local(A)], [row(B, 1, { failed: true })]).outOfOrder).toEqual([]);
    expect(compareHistory([local(A)], [row(B, 1, { rolledBack: 2 })]).outOfOrder).toEqual([]);
  });

  it('entries come out sorted by name whatever the order of rows and files', () => {
    const s = compareHistory([local(C), local(A)], [row(D, 1), row(B, 2)]);
    expect(s.entries.map((e) => e.name)).toEqual([A, B, C, D]);
  });
});

describe('compareMigrationNames: Prisma\'s order (localeCompare), without loading ICU for ordinary names', () => {
  it('agrees with localeCompare on random names of digits, letters and underscores', async () => {
    const { compareMigrationNames } = await import('../../src/history/local.js');
    const chars = '0123456789_abcyzABYZ';
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const word = (n: number) => Array.from({ length: 1 + Math.floor(rand() * n) }, () => chars[Math.floor(rand() * chars.length)]).join('');
    for (let i = 0; i < 20000; i++) {
      const a = word(8);
      const b = rand() < 0.3 ? a.slice(0, Math.floor(rand() * a.length)) + word(3) : word(8);
      expect(compareMigrationNames(a, b), `${a} vs ${b}`).toBe(Math.sign(a.localeCompare(b)));
    }
    // Other characters go to localeCompare itself.
    expect(compareMigrationNames('20240101000000_é', '20240101000000_f')).toBe(Math.sign('20240101000000_é'.localeCompare('20240101000000_f')));
    expect(['init', '20240102000000_b', 'B_second', 'a_first', '0_init'].sort(compareMigrationNames)).toEqual(['0_init', '20240102000000_b', 'a_first', 'B_second', 'init']);
  });

  it('orders names that start with different timestamps by them, as localeCompare does whatever follows', async () => {
    const { compareMigrationNames } = await import('../../src/history/local.js');
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const stamp = () => `2024${String(Math.floor(rand() * 1e10)).padStart(10, '0')}`;
    // Suffixes localeCompare orders differently from code units, and characters only ICU knows.
    const tails = ['', '_a', '_B', '_init', '-x', '.sql', '_é', '_Ω', ' space', '__', '_0', 'x'];
    for (let i = 0; i < 5000; i++) {
      const a = stamp() + tails[Math.floor(rand() * tails.length)];
      const b = (rand() < 0.3 ? a.slice(0, 10 + Math.floor(rand() * 4)) + String(Math.floor(rand() * 1e4)).padStart(4, '0') : stamp()) + tails[Math.floor(rand() * tails.length)];
      expect(compareMigrationNames(a, b), `${a} vs ${b}`).toBe(Math.sign(a.localeCompare(b)));
    }
  });
});
