import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';

const base = { environments: { development: { url: 'postgresql://localhost/app' } } };

describe('the lint section of the config', () => {
  it('accepts severities by code or name, the runner and the size thresholds', () => {
    const lint = { rules: { SDB015: 'error', 'type-hygiene': 'info', 'drop-not-null': 'off' }, runner: 'prisma', smallTableBytes: 0, largeTableBytes: 5e9 };
    expect(validateConfig({ ...base, lint })).toEqual({ config: { ...base, lint }, errors: [] });
  });
  it('reports every problem at once, unknown rules and keys included', () => {
    expect(validateConfig({ ...base, lint: { rules: { SDB999: 'off', SDB001: 'fatal' }, runner: 'flyway', smallTableBytes: -1, colour: true } }).errors).toEqual([
      'lint.rules.SDB999: unknown rule (stagedb lint --rules lists the codes and names)',
      'lint.rules.SDB001: must be one of "error", "warning", "info", "off"',
      'lint.runner: must be one of "stagedb", "prisma"',
      'lint.smallTableBytes: must be 0 or more',
      'lint.colour: unknown key',
    ]);
  });
});
