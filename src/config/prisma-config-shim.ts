/**
 * What `import { defineConfig, env } from 'prisma/config'` resolves to while stagedb reads a project's
 * prisma.config.ts (see `loadPrismaConfig`). The project's own `prisma` package may be missing, or a
 * version whose `env()` throws for an unset variable: stagedb needs the variable's *name*, so that each
 * environment reads it from its own env files, never its value at load time.
 */
export function defineConfig<T>(config: T): T {
  return config;
}

export function env(name: string): { $env: string } {
  return { $env: name };
}

export default { defineConfig, env };
