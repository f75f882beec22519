/** Short names `--env` accepts for the usual environments; no environment may be named like one. */
export const ALIASES: Record<string, string> = { dev: 'development', prod: 'production', stage: 'staging' };
