import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/** Parses one dotenv file with Node's own parser; a missing file yields undefined. */
export function readEnvFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
}
