import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../src/format.js';
import { formatBytes as backupBytes } from '../../src/backup/manifest.js';
import { lintFiles } from '../../src/lint/run.js';
import { db } from '../helpers/lint.js';

describe('the one byte formatter', () => {
  it("writes sizes in PostgreSQL's units (pg_size_pretty: 1 kB = 1024 bytes)", () => {
    expect([0, 1023, 1024, 1536, 100 * 1024, 5 * 1024 ** 3, 50 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 kB', '1.5 kB', '100 kB', '5.0 GB', '50.0 GB']);
  });

  it("a lint note and a backup write the same table size the same way (lint said 5.0 GB where backup said 5.4 GB)", async () => {
    const size = 5 * 1024 ** 3;
    const r = await lintFiles([{ path: 'm.sql', sql: 'CREATE INDEX "i" ON "Booking"("at");' }], { database: db({ Booking: { bytes: size } }) });
    expect(r.findings[0]?.note).toContain(`${backupBytes(size)} on production`);
  });

  it('durations', () => {
    expect([850, 4200, 190_000].map(formatDuration)).toEqual(['850 ms', '4.2 s', '3 min 10 s']);
  });
});
