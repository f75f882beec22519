/**
 * What `dotenv` and `dotenv/config` resolve to while stagedb reads a project's prisma.config.ts. A Prisma
 * 7 config starts with `import 'dotenv/config'`, which would load `.env` into stagedb's own process:
 * every `.env` value would then count as set in the shell, and win over `.env.staging`'s for staging.
 * stagedb reads env files itself, per environment, so loading them here does nothing.
 */
export function config(): { parsed: Record<string, string> } {
  return { parsed: {} };
}
export const configDotenv = config;
export function parse(): Record<string, string> {
  return {};
}
export function populate(): void {}

export default { config, configDotenv, parse, populate };
