import type { Rule } from '../types.js';

/**
 * A statement PostgreSQL's parser rejects: the migration would fail there, and nothing in it can be
 * checked. Reported by the runner (parsing happens before the rules); this entry carries the code,
 * name and severity like any rule.
 */
const rule: Rule = {
  code: 'SDB000',
  name: 'parse-error',
  summary: 'a statement PostgreSQL cannot parse (the migration would fail there)',
  defaultSeverity: 'error',
  kinds: [],
  check() {
    return undefined;
  },
};

export default rule;
