/**
 * `planPush` and `push` on real databases: the planned SQL, the engine's data-loss warnings computed
 * without changing anything, and a push that would lose data refused unless accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedEnvironment } from '../../src/config/environments.js';
import { planPush, push } from '../../src/develop/push.js';
import { freshDatabase, query, type FreshDatabase } from '../helpers/db.js';
import { createProject, environmentFor, rejection, type TempProject } from '../helpers/project.js';

const HEAD = 'datasource db {\n  provider = "postgresql"\n}\n';
const V1 = `${HEAD}
enum Role {
  USER
  ADMIN
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
  role  Role    @default(USER)
}
`;
const V2_ADD_POST = `${V1}
model Post {
  id    Int    @id @default(autoincrement())
  title String
}
`;
const V3_DROP_NAME = V2_ADD_POST.replace('  name  String?\n', '');
const V4_REQUIRED_NO_DEFAULT = V3_DROP_NAME.replace('  title String\n', '  title String\n  slug  String\n');

let d: FreshDatabase;
let p: TempProject;
let env: ResolvedEnvironment;
const schemaPath = () => p.path('prisma/schema.prisma');
beforeAll(async () => {
  d = await freshDatabase('push');
  p = createProject({ schema: V1 });
  env = environmentFor(d.url);
});
afterAll(async () => {
  await d.drop();
  p.remove();
});

/** Everything a push could change: columns of every table, and enum values. */
async function shape(url: string) {
  const cols = await query(url, `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`);
  const enums = await query(url, `SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.typname, e.enumsortorder`);
  return { cols, enums };
}

describe('push', () => {
  it('plans the SQL on an empty database without running it', async () => {
    const plan = await planPush({ env, schemaPath: schemaPath() });
    expect(plan).toEqual({
      script: `-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');

-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "Role" NOT NULL DEFAULT 'USER',

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
`,
      warnings: [],
      unexecutable: [],
      inSync: false,
    });
    expect((await shape(d.url)).cols).toEqual([]);
  });

  it('applies the schema, then is in sync', async () => {
    expect(await push({ env, schemaPath: schemaPath(), acceptDataLoss: false })).toEqual({ executedSteps: 3, warnings: [], applied: true, inSync: false });
    expect((await shape(d.url)).cols.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(['User.id', 'User.email', 'User.name', 'User.role']);
    expect(await planPush({ env, schemaPath: schemaPath() })).toEqual({ script: '', warnings: [], unexecutable: [], inSync: true });
    expect(await push({ env, schemaPath: schemaPath(), acceptDataLoss: false })).toEqual({ executedSteps: 0, warnings: [], applied: true, inSync: true });
    // No history table: a push is not a migration.
    expect(await query(d.url, `SELECT to_regclass('_prisma_migrations') IS NULL AS none`)).toEqual([{ none: true }]);
  });

  it('adds a model without asking (nothing is lost)', async () => {
    await query(d.url, `INSERT INTO "User" (email, name) VALUES ('ada@example.com', 'Ada'), ('alan@example.com', 'Alan')`);
    p.write('prisma/schema.prisma', V2_ADD_POST);
    expect((await planPush({ env, schemaPath: schemaPath() })).warnings).toEqual([]);
    expect(await push({ env, schemaPath: schemaPath(), acceptDataLoss: false })).toMatchObject({ executedSteps: 1, applied: true });
  });

  it('a column drop with data: the plan warns, the push is refused and changes nothing, then applied with acceptDataLoss', async () => {
    p.write('prisma/schema.prisma', V3_DROP_NAME);
    const before = await shape(d.url);
    const plan = await planPush({ env, schemaPath: schemaPath() });
    expect(plan).toEqual({
      script: '-- AlterTable\nALTER TABLE "User" DROP COLUMN "name";\n',
      warnings: ['You are about to drop the column `name` on the `User` table, which still contains 2 non-null values.'],
      unexecutable: [],
      inSync: false,
    });
    expect(await rejection(push({ env, schemaPath: schemaPath(), acceptDataLoss: false }))).toMatchInlineSnapshot(`
      {
        "code": "E_DATA_LOSS",
        "details": [
          "You are about to drop the column \`name\` on the \`User\` table, which still contains 2 non-null values.",
        ],
        "fix": "stagedb push --env development --accept-data-loss",
        "kind": "guard",
        "message": "development: the push would lose data; nothing was changed",
      }
    `);
    expect(await shape(d.url)).toEqual(before);
    expect(await query(d.url, `SELECT name FROM "User" ORDER BY id`)).toEqual([{ name: 'Ada' }, { name: 'Alan' }]);

    expect(await push({ env, schemaPath: schemaPath(), acceptDataLoss: true })).toEqual({
      executedSteps: 1,
      warnings: ['You are about to drop the column `name` on the `User` table, which still contains 2 non-null values.'],
      applied: true,
      inSync: false,
    });
    expect((await shape(d.url)).cols.filter((c) => c.table_name === 'User').map((c) => c.column_name)).toEqual(['id', 'email', 'role']);
  });

  it('a required column without default on a table with rows: unexecutable, refused even with acceptDataLoss', async () => {
    await query(d.url, `INSERT INTO "Post" (title) VALUES ('hello')`);
    p.write('prisma/schema.prisma', V4_REQUIRED_NO_DEFAULT);
    const plan = await planPush({ env, schemaPath: schemaPath() });
    expect(plan.unexecutable).toEqual(['Added the required column `slug` to the `Post` table without a default value. There are 1 rows in this table, it is not possible to execute this step.']);
    const before = await shape(d.url);
    expect(await rejection(push({ env, schemaPath: schemaPath(), acceptDataLoss: true }))).toMatchInlineSnapshot(`
      {
        "code": "E_PUSH_UNEXECUTABLE",
        "details": [
          "Added the required column \`slug\` to the \`Post\` table without a default value. There are 1 rows in this table, it is not possible to execute this step.",
        ],
        "fix": "give the new required field a default (@default(…)) or make it optional (?), or delete the rows it would apply to, then push again",
        "kind": "guard",
        "message": "development: the push cannot run on this database as it is; nothing was changed",
      }
    `);
    expect(await shape(d.url)).toEqual(before);
  });

  it('an enum value still in use: the accepted push fails with PostgreSQL\'s reason, not a driver error', async () => {
    p.write('prisma/schema.prisma', V3_DROP_NAME.replace('  ADMIN\n', ''));
    await query(d.url, `UPDATE "User" SET role = 'ADMIN' WHERE email = 'ada@example.com'`);
    expect((await planPush({ env, schemaPath: schemaPath() })).warnings).toEqual([
      'The values [ADMIN] on the enum `Role` will be removed. If these variants are still used in the database, this will fail.',
    ]);
    expect(await rejection(push({ env, schemaPath: schemaPath(), acceptDataLoss: true }))).toMatchInlineSnapshot(`
      {
        "code": "E_PUSH_FAILED",
        "details": [
          "the schema engine applies a push step by step: the steps before the failing one were applied",
        ],
        "fix": "change the data the failing step trips on (or schema.prisma), then push again (stagedb push --env development shows what is left)",
        "kind": "migration",
        "message": "development: the push failed: invalid input value for enum "Role_new": "ADMIN"",
      }
    `);
    expect((await shape(d.url)).enums.map((e) => e.enumlabel)).toEqual(['USER', 'ADMIN']);
  });

  it('is refused on production, before connecting', async () => {
    const prod: ResolvedEnvironment = { ...env, name: 'production', protection: 'production' };
    expect(await rejection(push({ env: prod, schemaPath: schemaPath(), acceptDataLoss: true }))).toMatchInlineSnapshot(`
      {
        "code": "E_REFUSED",
        "fix": "change development instead and make a migration: stagedb migrate dev --name <change>, commit it, then: stagedb deploy --env production",
        "kind": "guard",
        "message": "production: push is refused on an environment with protection 'production': a push changes the schema without a migration, so no other environment (and no history) would ever get the change",
      }
    `);
  });
});
