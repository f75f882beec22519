import { describe, expect, it } from 'vitest';
import { datasourceSchemas, ENGINE_PREVIEW_FEATURES, prepareSchemaForEngine, type SchemaFile } from '../../src/engine/schema.js';

const one = (content: string, path = 'prisma/schema.prisma') => prepareSchemaForEngine([{ path, content }]);
const lines = (s: string) => s.split('\n');

const PRISMA6 = `// A Prisma 6 project
generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["metrics", "views", "driverAdapters"]
}

datasource db {
  provider          = "postgresql"
  url               = env("DATABASE_URL")
  directUrl         = env("DIRECT_URL")
  shadowDatabaseUrl = env("SHADOW_DATABASE_URL")
  extensions        = [pgcrypto]
}

model Link {
  id  Int    @id
  url String @default("https://example.com/{id}")
}
`;

describe('prepareSchemaForEngine', () => {
  it('removes url, directUrl, shadowDatabaseUrl and unknown preview features, keeping every other line where it was', () => {
    const { files, stripped } = one(PRISMA6);
    expect(files[0]!.content).toBe(`// A Prisma 6 project
generator client {
  provider        = "prisma-client-js"
  previewFeatures = ["views"]
}

datasource db {
  provider          = "postgresql"
  
  
  
  extensions        = [pgcrypto]
}

model Link {
  id  Int    @id
  url String @default("https://example.com/{id}")
}
`);
    expect(lines(files[0]!.content)).toHaveLength(lines(PRISMA6).length);
    expect(stripped).toEqual([
      { kind: 'preview-feature', file: 'prisma/schema.prisma', line: 4, feature: 'metrics' },
      { kind: 'preview-feature', file: 'prisma/schema.prisma', line: 4, feature: 'driverAdapters' },
      { kind: 'datasource-property', file: 'prisma/schema.prisma', line: 9, property: 'url', env: 'DATABASE_URL' },
      { kind: 'datasource-property', file: 'prisma/schema.prisma', line: 10, property: 'directUrl', env: 'DIRECT_URL' },
      { kind: 'datasource-property', file: 'prisma/schema.prisma', line: 11, property: 'shadowDatabaseUrl', env: 'SHADOW_DATABASE_URL' },
    ]);
  });

  it('leaves a Prisma 7 schema byte for byte as it was', () => {
    const prisma7 = `generator client {
  provider = "prisma-client"
  output   = "../src/generated/prisma"
  previewFeatures = ["relationJoins", "postgresqlExtensions"]
}

datasource db {
  provider     = "postgresql"
  relationMode = "prisma"
}

model A {
  id Int @id
}
`;
    expect(one(prisma7)).toEqual({ files: [{ path: 'prisma/schema.prisma', content: prisma7 }], stripped: [] });
  });

  it('does not keep a literal URL in its report: it may hold a password', () => {
    const { files, stripped } = one(`datasource db {\n  provider = "postgresql"\n  url = "postgresql://app:s3cret@db:5432/app"\n}\n`);
    expect(files[0]!.content).toBe(`datasource db {\n  provider = "postgresql"\n  \n}\n`);
    expect(stripped).toEqual([{ kind: 'datasource-property', file: 'prisma/schema.prisma', line: 3, property: 'url' }]);
    expect(JSON.stringify(stripped)).not.toContain('s3cret');
  });

  it('touches only datasource and generator blocks, never comments, strings or models', () => {
    const schema = `// url = env("NOT_THIS")
/// directUrl = env("NOR_THIS")
model Site {
  id        Int    @id
  url       String
  directUrl String @default("directUrl = env(\\"X\\")")
  // previewFeatures = ["metrics"]
}

datasource db {
  provider = "postgresql" // url = env("IN_A_COMMENT")
  // url = env("COMMENTED_OUT")
  url = env("DATABASE_URL") // the app's pooled URL
}
`;
    const { files, stripped } = one(schema);
    expect(stripped).toEqual([{ kind: 'datasource-property', file: 'prisma/schema.prisma', line: 13, property: 'url', env: 'DATABASE_URL' }]);
    // Only line 13 changed, and its trailing comment stays.
    const before = lines(schema);
    const after = lines(files[0]!.content);
    expect(after.filter((l, i) => l !== before[i])).toEqual(['   // the app\'s pooled URL']);
  });

  it('matches feature names case-insensitively, as the engine does, and keeps their spelling', () => {
    const { files, stripped } = one(`generator client {\n  provider = "prisma-client-js"\n  previewFeatures = ["Views", "METRICS", "fullTextSearchPostgres"]\n}\n`);
    expect(files[0]!.content).toContain(`previewFeatures = ["Views", "fullTextSearchPostgres"]`);
    expect(stripped.map((s) => s.kind === 'preview-feature' && s.feature)).toEqual(['METRICS']);
  });

  it('rewrites a multi-line previewFeatures array without changing the line count, down to []', () => {
    const schema = `generator client {
  provider        = "prisma-client-js"
  previewFeatures = [
    "metrics",
    "tracing"
  ]
  binaryTargets = ["native"]
}
model A {
  id Int @id
}
`;
    const { files, stripped } = one(schema);
    expect(files[0]!.content).toBe(`generator client {
  provider        = "prisma-client-js"
  previewFeatures = []



  binaryTargets = ["native"]
}
model A {
  id Int @id
}
`);
    expect(stripped).toEqual([
      { kind: 'preview-feature', file: 'prisma/schema.prisma', line: 4, feature: 'metrics' },
      { kind: 'preview-feature', file: 'prisma/schema.prisma', line: 5, feature: 'tracing' },
    ]);
  });

  it('handles a value spread over lines and CRLF files', () => {
    const schema = 'datasource db {\r\n  provider = "postgresql"\r\n  url = env(\r\n    "DATABASE_URL"\r\n  )\r\n}\r\n';
    const { files, stripped } = one(schema);
    expect(files[0]!.content).toBe('datasource db {\r\n  provider = "postgresql"\r\n  \r\n\r\n\r\n}\r\n');
    expect(lines(files[0]!.content)).toHaveLength(lines(schema).length);
    expect(stripped).toEqual([{ kind: 'datasource-property', file: 'prisma/schema.prisma', line: 3, property: 'url', env: 'DATABASE_URL' }]);
  });

  it('works file by file on a multi-file schema and keeps the paths', () => {
    const files: SchemaFile[] = [
      { path: 'prisma/schema/models.prisma', content: 'model A {\n  id Int @id\n}\n' },
      { path: 'prisma/schema/schema.prisma', content: 'datasource db {\n  provider = "postgresql"\n  directUrl = env("DIRECT_URL")\n}\n' },
    ];
    const out = prepareSchemaForEngine(files);
    expect(out.files.map((f) => f.path)).toEqual(['prisma/schema/models.prisma', 'prisma/schema/schema.prisma']);
    expect(out.files[0]).toEqual(files[0]);
    expect(out.files[1]!.content).toBe('datasource db {\n  provider = "postgresql"\n  \n}\n');
    expect(out.stripped).toEqual([{ kind: 'datasource-property', file: 'prisma/schema/schema.prisma', line: 3, property: 'directUrl', env: 'DIRECT_URL' }]);
  });

  it('keeps exactly the preview features the pinned engine lists as known', () => {
    const all = ENGINE_PREVIEW_FEATURES.map((f) => JSON.stringify(f)).join(', ');
    const schema = `generator client {\n  provider = "prisma-client"\n  previewFeatures = [${all}]\n}\n`;
    expect(one(schema).stripped).toEqual([]);
    // Prisma <= 6 names this engine refuses (metrics, esm) or ignores (GA'd or removed since).
    for (const f of ['metrics', 'esm', 'driverAdapters', 'queryCompiler', 'multiSchema', 'fullTextSearch', 'tracing', 'omitApi', 'prismaSchemaFolder', 'interactiveTransactions']) {
      expect(one(`generator client {\n  provider = "prisma-client-js"\n  previewFeatures = ["${f}"]\n}\n`).stripped).toHaveLength(1);
    }
  });
});

describe('datasourceSchemas (what migrate reset drops besides the URL\'s schema)', () => {
  const file = (content: string): SchemaFile[] => [{ path: 'schema.prisma', content }];
  it('reads schemas = [...] of the datasource, over several lines, not from comments or other blocks', () => {
    expect(datasourceSchemas(file('datasource db {\n  provider = "postgresql"\n  // schemas = ["old"]\n  schemas  = ["public",\n              "auth"] // two\n}\n'))).toEqual(['public', 'auth']);
    expect(datasourceSchemas(file('generator client {\n  provider = "prisma-client"\n  schemas = ["x"]\n}\ndatasource db {\n  provider = "postgresql"\n}\n'))).toBeUndefined();
    expect(datasourceSchemas(file('/* */\ndatasource db {\n  provider = "postgresql"\n}\n'))).toBeUndefined();
  });
  it('looks in every file of a schema folder', () => {
    expect(datasourceSchemas([{ path: 'a.prisma', content: 'model A {\n  id Int @id\n  @@schema("auth")\n}\n' }, { path: 'b.prisma', content: 'datasource db {\n  provider = "postgresql"\n  schemas = ["auth", "public", "auth"]\n}\n' }])).toEqual(['auth', 'public']);
  });
});
