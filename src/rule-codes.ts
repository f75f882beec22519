/**
 * Every lint rule's stable code and name, without loading the rules themselves: config validation and
 * directive checks need only this. `test/unit/lint-rules.test.ts` checks it matches src/lint/rules/.
 * A leaf below config/ (which checks `lint.rules` keys with it), so the config never imports the lint.
 */
export const RULE_NAMES: Readonly<Record<string, string>> = {
  SDB000: 'parse-error',
  SDB001: 'create-index-concurrently',
  SDB002: 'drop-index-concurrently',
  SDB003: 'concurrently-in-transaction',
  SDB004: 'foreign-key-not-valid',
  SDB005: 'check-not-valid',
  SDB006: 'validate-in-same-transaction',
  SDB007: 'set-not-null',
  SDB008: 'add-required-column',
  SDB009: 'volatile-default',
  SDB010: 'add-serial-column',
  SDB011: 'column-type-change',
  SDB012: 'drop-and-recreate-column',
  SDB013: 'unique-constraint',
  SDB014: 'add-primary-key',
  SDB015: 'drop-column',
  SDB016: 'drop-table',
  SDB017: 'rename',
  SDB018: 'enum-value-in-transaction',
  SDB019: 'enum-recreate',
  SDB020: 'drop-not-null',
  SDB021: 'drop-constraint',
  SDB022: 'lock-timeout',
  SDB023: 'backfill-with-ddl',
  SDB024: 'transaction-control',
  SDB025: 'blocking-maintenance',
  SDB026: 'type-hygiene',
  SDB027: 'statement-timeout',
  SDB028: 'not-rerunnable',
  SDB029: 'truncate-cascade',
  SDB030: 'domain-constraint',
  SDB031: 'table-rewrite',
  SDB032: 'table-settings',
  SDB033: 'type-change-with-check',
  SDB034: 'concurrent-index-pg14',
  SDB035: 'exclusion-constraint',
  SDB036: 'detach-partition-concurrently',
  SDB037: 'create-trigger',
  SDB038: 'truncate',
  SDB090: 'lint-directive',
};

/** A rule code (`SDB001`) or name (`create-index-concurrently`) → its code. */
export function ruleCode(codeOrName: string): string | undefined {
  const up = codeOrName.toUpperCase();
  if (RULE_NAMES[up]) return up;
  for (const [code, name] of Object.entries(RULE_NAMES)) if (name === codeOrName.toLowerCase()) return code;
  return undefined;
}
