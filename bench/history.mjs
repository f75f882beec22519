/**
 * A synthetic but Prisma-shaped migration history, deterministic for a given seed, so every run of
 * the bench applies exactly the same SQL. The statements and their comments follow what
 * `prisma migrate dev` writes for PostgreSQL: `-- CreateTable` blocks with a `_pkey` constraint, then
 * `-- CreateIndex`, then `-- AddForeignKey`; `ALTER TABLE … ADD COLUMN     …` with Prisma's padding;
 * `-- AlterEnum` ADD VALUE; and, for removed enum values, Prisma's own BEGIN/COMMIT block (so the
 * history exercises stagedb's "file has its own transaction" path too).
 *
 * Every object the history creates is tracked, so later migrations only touch what exists and the
 * whole history applies cleanly to an empty database.
 */

const PREFIXES = ['Billing', 'Catalog', 'Audit', 'Shipping', 'Support', 'Stock', 'Campaign', 'Metric', 'Identity', 'Content', 'Partner'];
const NOUNS = ['Account', 'Event', 'Item', 'Record', 'Entry', 'Setting', 'Report', 'Note', 'Request', 'Profile', 'Rule', 'Job', 'Task', 'Batch', 'Tag'];
const COLUMN_WORDS = [
  'title', 'slug', 'description', 'amount', 'quantity', 'priority', 'metadata', 'externalId', 'email', 'phone', 'url',
  'score', 'rank', 'notes', 'label', 'code', 'currency', 'country', 'locale', 'timezone', 'version', 'checksum',
  'archivedAt', 'publishedAt', 'expiresAt', 'sortOrder', 'color', 'weight', 'source', 'reference',
];
const TYPES = [
  { sql: 'TEXT', nullable: true },
  { sql: 'TEXT NOT NULL', nullable: false, needsDefault: "DEFAULT ''" },
  { sql: 'INTEGER', nullable: true },
  { sql: 'INTEGER NOT NULL DEFAULT 0', nullable: false },
  { sql: 'BOOLEAN NOT NULL DEFAULT false', nullable: false },
  { sql: 'TIMESTAMP(3)', nullable: true },
  { sql: 'DECIMAL(65,30)', nullable: true },
  { sql: 'JSONB', nullable: true },
  { sql: 'DOUBLE PRECISION', nullable: true },
  { sql: 'VARCHAR(191)', nullable: true },
  { sql: 'BIGINT', nullable: true },
  { sql: 'TEXT[]', nullable: true },
];
const ENUM_NAMES = ['Status', 'Visibility', 'Channel', 'Tier', 'Kind', 'Stage', 'Region', 'Plan', 'Severity', 'Frequency', 'Provider', 'Format'];
const ENUM_VALUES = ['DRAFT', 'ACTIVE', 'PAUSED', 'ARCHIVED', 'PENDING', 'FAILED', 'LOW', 'MEDIUM', 'HIGH', 'DAILY', 'WEEKLY', 'MONTHLY', 'EMAIL', 'SMS', 'PUSH', 'WEB'];

/** mulberry32: small, fast, good enough for picking shapes deterministically. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const q = (id) => `"${id}"`;

/**
 * @param {{ count: number, seed?: number }} opts
 * @returns {{ name: string, sql: string, ownTransaction: boolean }[]}
 */
export function generateHistory({ count, seed = 20240101 }) {
  const rand = rng(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const tableNames = PREFIXES.flatMap((p) => NOUNS.map((n) => `${p}${n}`));
  for (let i = tableNames.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [tableNames[i], tableNames[j]] = [tableNames[j], tableNames[i]];
  }
  /** @type {{ name: string, columns: Map<string, { droppable: boolean, nullable: boolean }>, indexes: string[] }[]} */
  const tables = [];
  /** @type {{ name: string, values: string[], uses: { table: string, column: string, def: string }[] }[]} */
  const enums = [];
  const usedEnumNames = new Set();

  const newColumnName = (t) => {
    for (let k = 0; ; k++) {
      const base = pick(COLUMN_WORDS);
      const name = k < 5 && !t.columns.has(base) ? base : `${base}${t.columns.size}`;
      if (!t.columns.has(name)) return name;
    }
  };
  const columnDef = (name, type) => `${q(name)} ${type.sql}${type.needsDefault ? ` ${type.needsDefault}` : ''}`;
  const indexName = (t, cols, suffix) => {
    const n = `${t.name}_${cols.join('_')}_${suffix}`;
    return n.length <= 63 ? n : undefined;
  };

  /** Parts of one migration, emitted in Prisma's section order. */
  const sections = () => ({ enums: [], tables: [], alters: [], indexes: [], fks: [] });
  const render = (s) =>
    [...s.enums, ...s.tables, ...s.alters, ...s.indexes, ...s.fks].join('\n\n') + '\n';

  const createTable = (s) => {
    const name = tableNames[tables.length];
    if (!name) return false;
    const t = { name, columns: new Map(), indexes: [] };
    const lines = [`    "id" TEXT NOT NULL,`];
    t.columns.set('id', { droppable: false, nullable: false });
    const extra = 2 + Math.floor(rand() * 5);
    for (let i = 0; i < extra; i++) {
      const c = newColumnName(t);
      const type = pick(TYPES);
      t.columns.set(c, { droppable: true, nullable: type.nullable });
      lines.push(`    ${columnDef(c, type)},`);
    }
    lines.push(`    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,`, `    "updatedAt" TIMESTAMP(3) NOT NULL,`);
    t.columns.set('createdAt', { droppable: false, nullable: false });
    t.columns.set('updatedAt', { droppable: false, nullable: false });
    const parent = tables.length > 0 && rand() < 0.8 ? pick(tables) : undefined;
    let fkCol;
    if (parent) {
      fkCol = `${parent.name.charAt(0).toLowerCase()}${parent.name.slice(1)}Id`;
      lines.push(`    ${q(fkCol)} TEXT NOT NULL,`);
      t.columns.set(fkCol, { droppable: false, nullable: false });
    }
    s.tables.push(`-- CreateTable\nCREATE TABLE ${q(name)} (\n${lines.join('\n')}\n\n    CONSTRAINT ${q(`${name}_pkey`)} PRIMARY KEY ("id")\n);`);
    tables.push(t);
    if (fkCol) {
      const idx = indexName(t, [fkCol], 'idx');
      if (idx) {
        s.indexes.push(`-- CreateIndex\nCREATE INDEX ${q(idx)} ON ${q(name)}(${q(fkCol)});`);
        t.indexes.push(idx);
      }
      s.fks.push(
        `-- AddForeignKey\nALTER TABLE ${q(name)} ADD CONSTRAINT ${q(`${name}_${fkCol}_fkey`)} FOREIGN KEY (${q(fkCol)}) REFERENCES ${q(parent.name)}("id") ON DELETE ${pick(['CASCADE', 'RESTRICT'])} ON UPDATE CASCADE;`,
      );
    }
    if (rand() < 0.5) {
      const c = [...t.columns.keys()].find((k) => t.columns.get(k).droppable);
      if (c) {
        t.columns.get(c).droppable = false;
        const idx = indexName(t, [c], 'key');
        if (idx) {
          s.indexes.push(`-- CreateIndex\nCREATE UNIQUE INDEX ${q(idx)} ON ${q(name)}(${q(c)});`);
          t.indexes.push(idx);
        }
      }
    }
    return true;
  };

  const addColumns = (s) => {
    const t = pick(tables);
    const n = 1 + Math.floor(rand() * 3);
    const parts = [];
    for (let i = 0; i < n; i++) {
      const c = newColumnName(t);
      const type = pick(TYPES);
      t.columns.set(c, { droppable: true, nullable: type.nullable });
      parts.push(`ADD COLUMN     ${columnDef(c, type)}`);
    }
    s.alters.push(`-- AlterTable\nALTER TABLE ${q(t.name)} ${parts.join(',\n')};`);
    return true;
  };

  const addRelation = (s) => {
    if (tables.length < 2) return false;
    const child = pick(tables);
    const parent = pick(tables.filter((t) => t !== child));
    const fkCol = `${parent.name.charAt(0).toLowerCase()}${parent.name.slice(1)}Id`;
    if (child.columns.has(fkCol)) return false;
    child.columns.set(fkCol, { droppable: false, nullable: true });
    s.alters.push(`-- AlterTable\nALTER TABLE ${q(child.name)} ADD COLUMN     ${q(fkCol)} TEXT;`);
    const idx = indexName(child, [fkCol], 'idx');
    if (idx) {
      s.indexes.push(`-- CreateIndex\nCREATE INDEX ${q(idx)} ON ${q(child.name)}(${q(fkCol)});`);
      child.indexes.push(idx);
    }
    s.fks.push(
      `-- AddForeignKey\nALTER TABLE ${q(child.name)} ADD CONSTRAINT ${q(`${child.name}_${fkCol}_fkey`)} FOREIGN KEY (${q(fkCol)}) REFERENCES ${q(parent.name)}("id") ON DELETE SET NULL ON UPDATE CASCADE;`,
    );
    return true;
  };

  const createIndex = (s) => {
    const t = pick(tables);
    const candidates = [...t.columns.entries()].filter(([, c]) => c.droppable).map(([k]) => k);
    if (candidates.length === 0) return false;
    const cols = [pick(candidates)];
    if (candidates.length > 1 && rand() < 0.3) {
      const second = pick(candidates.filter((c) => c !== cols[0]));
      cols.push(second);
    }
    const idx = indexName(t, cols, 'idx');
    if (!idx || t.indexes.includes(idx)) return false;
    for (const c of cols) t.columns.get(c).droppable = false;
    s.indexes.push(`-- CreateIndex\nCREATE INDEX ${q(idx)} ON ${q(t.name)}(${cols.map(q).join(', ')});`);
    t.indexes.push(idx);
    return true;
  };

  const dropIndex = (s) => {
    const t = pick(tables);
    const idx = t.indexes.find((i) => i.endsWith('_idx') && !i.endsWith('Id_idx'));
    if (!idx) return false;
    t.indexes.splice(t.indexes.indexOf(idx), 1);
    s.alters.push(`-- DropIndex\nDROP INDEX ${q(idx)};`);
    return true;
  };

  const dropColumn = (s) => {
    const t = pick(tables);
    const c = [...t.columns.entries()].find(([, v]) => v.droppable)?.[0];
    if (!c) return false;
    t.columns.delete(c);
    s.alters.push(
      `/*\n  Warnings:\n\n  - You are about to drop the column \`${c}\` on the \`${t.name}\` table. All the data in the column will be lost.\n\n*/\n-- AlterTable\nALTER TABLE ${q(t.name)} DROP COLUMN ${q(c)};`,
    );
    return true;
  };

  const alterColumn = (s) => {
    const t = pick(tables);
    const c = [...t.columns.entries()].find(([, v]) => v.droppable && v.nullable)?.[0];
    if (!c) return false;
    t.columns.get(c).nullable = false;
    s.alters.push(
      `/*\n  Warnings:\n\n  - Made the column \`${c}\` on table \`${t.name}\` required. This step will fail if there are existing NULL values in that column.\n\n*/\n-- AlterTable\nALTER TABLE ${q(t.name)} ALTER COLUMN ${q(c)} SET NOT NULL;`,
    );
    return true;
  };

  const createEnum = (s) => {
    const name = ENUM_NAMES.find((n) => !usedEnumNames.has(n));
    if (!name || tables.length === 0) return false;
    usedEnumNames.add(name);
    const start = Math.floor(rand() * (ENUM_VALUES.length - 3));
    const values = ENUM_VALUES.slice(start, start + 2 + Math.floor(rand() * 2));
    const t = pick(tables);
    const column = `${name.charAt(0).toLowerCase()}${name.slice(1)}`;
    if (t.columns.has(column)) return false;
    t.columns.set(column, { droppable: false, nullable: false });
    const e = { name, values, uses: [{ table: t.name, column, def: values[0] }] };
    enums.push(e);
    s.enums.push(`-- CreateEnum\nCREATE TYPE ${q(name)} AS ENUM (${values.map((v) => `'${v}'`).join(', ')});`);
    s.alters.push(`-- AlterTable\nALTER TABLE ${q(t.name)} ADD COLUMN     ${q(column)} ${q(name)} NOT NULL DEFAULT '${values[0]}';`);
    return true;
  };

  const addEnumValue = (s) => {
    if (enums.length === 0) return false;
    const e = pick(enums);
    const v = ENUM_VALUES.find((x) => !e.values.includes(x));
    if (!v) return false;
    e.values.push(v);
    s.alters.push(`-- AlterEnum\nALTER TYPE ${q(e.name)} ADD VALUE '${v}';`);
    return true;
  };

  /** Prisma's script for removing enum values: its own BEGIN/COMMIT around a type swap. */
  const removeEnumValue = () => {
    const e = enums.find((x) => x.values.length > 2);
    if (!e) return undefined;
    const removed = e.values.pop();
    const lines = [
      `/*\n  Warnings:\n\n  - The values [${removed}] on the enum \`${e.name}\` will be removed. If these variants are still used in the database, this will fail.\n\n*/`,
      '-- AlterEnum',
      'BEGIN;',
      `CREATE TYPE "${e.name}_new" AS ENUM (${e.values.map((v) => `'${v}'`).join(', ')});`,
    ];
    for (const u of e.uses) lines.push(`ALTER TABLE ${q(u.table)} ALTER COLUMN ${q(u.column)} DROP DEFAULT;`);
    for (const u of e.uses) lines.push(`ALTER TABLE ${q(u.table)} ALTER COLUMN ${q(u.column)} TYPE "${e.name}_new" USING (${q(u.column)}::text::"${e.name}_new");`);
    lines.push(`ALTER TYPE ${q(e.name)} RENAME TO "${e.name}_old";`, `ALTER TYPE "${e.name}_new" RENAME TO ${q(e.name)};`, `DROP TYPE "${e.name}_old";`);
    for (const u of e.uses) lines.push(`ALTER TABLE ${q(u.table)} ALTER COLUMN ${q(u.column)} SET DEFAULT '${u.def}';`);
    lines.push('COMMIT;');
    return `${lines.join('\n')}\n`;
  };

  const KINDS = [
    ['add_model', 0.26, createTable],
    ['add_fields', 0.24, addColumns],
    ['add_relation', 0.1, addRelation],
    ['add_index', 0.12, createIndex],
    ['add_enum', 0.04, createEnum],
    ['enum_value', 0.07, addEnumValue],
    ['drop_field', 0.05, dropColumn],
    ['drop_index', 0.04, dropIndex],
    ['required_field', 0.06, alterColumn],
    ['remove_enum_value', 0.02, null],
  ];
  const total = KINDS.reduce((a, k) => a + k[1], 0);

  const out = [];
  const stamp = (i) => {
    const d = new Date(Date.UTC(2023, 0, 2, 9, 0, 0) + i * 3_600_000 * 7 + i * 61_000);
    return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  };

  // The first migration is the usual "init": a few models, one enum, their indexes and relations.
  {
    const s = sections();
    for (let i = 0; i < 4; i++) createTable(s);
    createEnum(s);
    out.push({ name: `${stamp(0)}_init`, sql: render(s), ownTransaction: false });
  }
  let seq = 1;
  while (out.length < count) {
    let r = rand() * total;
    const kind = KINDS.find((k) => (r -= k[1]) < 0) ?? KINDS[0];
    const [label, , fn] = kind;
    let sql;
    let ownTransaction = false;
    if (fn === null) {
      sql = removeEnumValue();
      ownTransaction = true;
    } else {
      const s = sections();
      // Prisma often folds a second change into the same migration.
      if (!fn(s)) continue;
      if (rand() < 0.25) addColumns(s);
      sql = render(s);
    }
    if (!sql) continue;
    out.push({ name: `${stamp(seq)}_${label}_${seq}`, sql, ownTransaction });
    seq++;
  }
  return out;
}
