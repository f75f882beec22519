import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Protection } from '../../src/config/define.js';
import { StagedbError } from '../../src/errors.js';
import { COMMAND_OF, enforce, MATRIX, type Action } from '../../src/guard/protection.js';
import { checkMarker } from '../../src/guard/marker.js';

const LEVELS: Protection[] = ['none', 'guarded', 'production'];

/** The protection table docs/protection.md documents, as written. */
function documentedMatrix(): Record<string, Record<Protection, string>> {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'protection.md'), 'utf8');
  const block = readme.slice(readme.indexOf('<!-- protection-matrix:start -->'), readme.indexOf('<!-- protection-matrix:end -->'));
  const rows = block.split('\n').filter((l) => l.startsWith('| `'));
  return Object.fromEntries(
    rows.map((l) => {
      const [cmd, none, guarded, production] = l.split('|').slice(1, 5).map((c) => c.trim());
      return [cmd!.replace(/`/g, ''), { none: none!, guarded: guarded!, production: production! }];
    }),
  );
}

const outcome = async (action: Action, protection: Protection, extra: Partial<Parameters<typeof enforce>[0]> & { answer?: boolean } = {}) => {
  let asked = 0;
  const { answer = true, ...rest } = extra;
  try {
    await enforce({
      action,
      env: { name: 'target', protection },
      interactive: false,
      typeToConfirm: async () => {
        asked++;
        return answer;
      },
      ...rest,
    });
    return { result: 'ran', asked };
  } catch (e) {
    return { result: (e as StagedbError).code, asked };
  }
};

describe('the protection matrix', () => {
  it('is the table the README documents, command for command', () => {
    const doc = documentedMatrix();
    const code = Object.fromEntries(Object.entries(MATRIX).map(([a, r]) => [COMMAND_OF[a as Action], r]));
    expect(doc).toEqual(code);
  });

  describe.each(Object.keys(MATRIX) as Action[])('%s', (action) => {
    it.each(LEVELS)('on %s', async (level) => {
      const rule = MATRIX[action][level];
      const plain = await outcome(action, level);
      const confirmed = await outcome(action, level, { confirmFlag: 'target' });
      const wrongName = await outcome(action, level, { confirmFlag: 'other' });
      const forced = await outcome(action, level, { force: true });
      const typed = await outcome(action, level, { interactive: true });
      const declined = await outcome(action, level, { interactive: true, answer: false });
      if (rule === 'free') {
        for (const o of [plain, confirmed, forced, typed]) expect(o).toEqual({ result: 'ran', asked: 0 });
      } else if (rule === 'refuse') {
        // Nothing gets through: not --confirm, not --force, not typing the name.
        for (const o of [plain, confirmed, wrongName, forced, typed, declined]) expect(o).toEqual({ result: 'E_REFUSED', asked: 0 });
      } else {
        expect(plain).toEqual({ result: 'E_CONFIRM_REQUIRED', asked: 0 });
        expect(confirmed).toEqual({ result: 'ran', asked: 0 });
        expect(wrongName).toEqual({ result: 'E_CONFIRM_MISMATCH', asked: 0 });
        // --force never reaches a guarded or production environment, nor the marker anywhere.
        expect(forced).toEqual(level === 'none' && action !== 'marker' ? { result: 'ran', asked: 0 } : { result: 'E_CONFIRM_REQUIRED', asked: 0 });
        expect(typed).toEqual({ result: 'ran', asked: 1 });
        expect(declined).toEqual({ result: 'E_ABORTED', asked: 1 });
      }
    });
  });

  it('says what to do instead of a refused command, and how to confirm ahead in CI', async () => {
    const refused = await enforce({ action: 'reset', env: { name: 'production', protection: 'production' }, interactive: false, typeToConfirm: async () => true }).catch((e: StagedbError) => e);
    expect([(refused as StagedbError).message, (refused as StagedbError).fix]).toMatchInlineSnapshot(`
      [
        "stagedb migrate reset is refused on production (protection: production)",
        "reset only development databases; to undo a deploy here, restore the pre-deploy backup or roll forward with a new migration",
      ]
    `);
    const needsConfirm = await enforce({ action: 'deploy', env: { name: 'production', protection: 'production' }, interactive: false, typeToConfirm: async () => true }).catch((e: StagedbError) => e);
    expect([(needsConfirm as StagedbError).message, (needsConfirm as StagedbError).fix]).toMatchInlineSnapshot(`
      [
        "stagedb deploy on production (protection: production) needs confirmation, and there is no terminal to ask in",
        "stagedb deploy --env production --confirm production",
      ]
    `);
  });
});

describe('the marker in the database', () => {
  it('refuses an environment less protected than the database says it is', () => {
    expect(() => checkMarker({ protection: 'production', environment: 'production' }, { name: 'development', protection: 'none' })).toThrowErrorMatchingInlineSnapshot(
      `[StagedbError: development: this database is marked "production" (environment production), but environment development has protection "none": its URL probably points at the wrong database]`,
    );
    expect(() => checkMarker({ protection: 'guarded' }, { name: 'development', protection: 'none' })).toThrow(/marked "guarded"/);
  });

  it('refuses an environment of the same level that is not the one the database names', () => {
    expect(() => checkMarker({ protection: 'production', environment: 'production-eu' }, { name: 'production', protection: 'production' })).toThrowErrorMatchingInlineSnapshot(`[StagedbError: production: this database is marked as environment production-eu ("production"), not production: its URL probably points at the wrong database]`);
    expect(() => checkMarker({ protection: 'guarded', environment: 'staging' }, { name: 'staging', protection: 'production' })).not.toThrow();
  });

  it('lets equal or stricter environments through, and unmarked databases', () => {
    for (const p of LEVELS) {
      expect(() => checkMarker({}, { name: 'x', protection: p })).not.toThrow();
      expect(() => checkMarker({ protection: 'none' }, { name: 'x', protection: p })).not.toThrow();
    }
    expect(() => checkMarker({ protection: 'guarded' }, { name: 'x', protection: 'production' })).not.toThrow();
  });
});

describe('allowSeed', () => {
  it('turns seeding a production environment from refused into typed confirmation, and nothing else', async () => {
    const run = (env: { name: string; protection: Protection; allowSeed?: boolean }, extra: Partial<Parameters<typeof enforce>[0]> = {}) =>
      enforce({ action: 'seed', env, interactive: false, typeToConfirm: async () => true, ...extra }).then(
        () => 'ran',
        (e: StagedbError) => e.code,
      );
    expect(await run({ name: 'production', protection: 'production' }, { confirmFlag: 'production' })).toBe('E_REFUSED');
    expect(await run({ name: 'production', protection: 'production', allowSeed: true })).toBe('E_CONFIRM_REQUIRED');
    expect(await run({ name: 'production', protection: 'production', allowSeed: true }, { confirmFlag: 'production' })).toBe('ran');
    expect(await run({ name: 'production', protection: 'production', allowSeed: true }, { force: true })).toBe('E_CONFIRM_REQUIRED');
    // Other levels and other commands are untouched.
    expect(await run({ name: 'staging', protection: 'guarded', allowSeed: true })).toBe('E_CONFIRM_REQUIRED');
    const reset = await enforce({ action: 'reset', env: { name: 'production', protection: 'production', allowSeed: true }, interactive: false, typeToConfirm: async () => true, confirmFlag: 'production' }).catch((e: StagedbError) => e.code);
    expect(reset).toBe('E_REFUSED');
  });
});
