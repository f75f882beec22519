import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { schemaFiles } from '../config/prisma-project.js';
import { StagedbError } from '../errors.js';
import type { SchemaFile } from './schema.js';

/**
 * The Prisma schema at `schemaPath` (a file, or a folder of .prisma files) as the engine takes it,
 * with paths relative to the working directory: the engine prints them in its diagnostics
 * (`-->  prisma/schema.prisma:8`), as the Prisma CLI does.
 */
export function readSchemaFiles(schemaPath: string): SchemaFile[] {
  const files = schemaFiles(schemaPath);
  if (files.length === 0) {
    throw new StagedbError('config', 'E_SCHEMA_MISSING', `no Prisma schema at ${relative(process.cwd(), schemaPath) || schemaPath}`, {
      fix: 'point schema (in stagedb.config.ts, or --schema) at schema.prisma or at a folder of .prisma files',
    });
  }
  return files.map((f) => ({ path: relative(process.cwd(), f) || f, content: readFileSync(f, 'utf8') }));
}
