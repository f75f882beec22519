import { describe, expect, it } from 'vitest';
import { databaseKey } from '../../src/config/same-database.js';
import { parseDatabaseUrl } from '../../src/config/url.js';

/** When two URLs reach the same database (issue 12: env, status and doctor refuse two environments on one). */
const key = (url: string) => databaseKey(parseDatabaseUrl(url, 'test'));

describe('databaseKey', () => {
  it('treats loopback names, host case, a trailing dot and the default port as the same', () => {
    const same = [
      'postgresql://a:x@localhost/app',
      'postgresql://b:y@127.0.0.1:5432/app',
      'postgresql://c@[::1]:5432/app?schema=other',
      'postgres://LOCALHOST.:5432/app?sslmode=require',
      'postgresql://d@127.0.1.1/app',
    ];
    expect(new Set(same.map(key))).toEqual(new Set(['localhost:5432/app']));
    expect(key('postgresql://u@DB.Example.com./app')).toBe(key('postgresql://v@db.example.com:5432/app'));
  });

  it('tells different ports, databases and hosts apart, and decodes database names', () => {
    const different = ['postgresql://localhost/app', 'postgresql://localhost:5433/app', 'postgresql://localhost/app2', 'postgresql://db.example.com/app'];
    expect(new Set(different.map(key)).size).toBe(4);
    expect(key('postgresql://localhost/my%20app')).toBe('localhost:5432/my app');
  });
});
