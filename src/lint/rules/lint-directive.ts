import type { Rule } from '../types.js';

/**
 * A `stagedb-lint-disable…` comment that suppresses nothing: no reason, no rule, an unknown rule or an
 * unknown directive. Reported by the runner while it reads the directives.
 */
const rule: Rule = {
  code: 'SDB090',
  name: 'lint-directive',
  summary: 'a stagedb-lint-disable comment without a reason, or naming an unknown rule',
  defaultSeverity: 'warning',
  kinds: [],
  check() {
    return undefined;
  },
};

export default rule;
