import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/shell-quote.js';

/** What a POSIX shell makes of `printf %s <word>`: the word as the shell reads it back. */
const readBack = (word: string) => execFileSync('sh', ['-c', `printf %s ${word}`], { encoding: 'utf8' });

describe('shellQuote', () => {
  it('leaves plain names as they are, so ordinary fix lines read as before', () => {
    for (const v of ['20240101000000_init', '/var/lib/stagedb/data', 'db.example.com', 'app_user', 'eu-west-1']) expect(shellQuote(v)).toBe(v);
  });

  it('anything a shell would expand or split pastes back as exactly itself', () => {
    const nasty = ['x$(touch PWNED)', 'x`touch PWNED`', "it's", 'two words', 'a;rm -rf ~', '$HOME', 'semi"quote', 'new\nline', '', '*', 'a\\b', "''"];
    for (const v of nasty) expect(readBack(shellQuote(v)), JSON.stringify(v)).toBe(v);
  });
});
