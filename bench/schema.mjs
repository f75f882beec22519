/**
 * A synthetic but realistic Prisma schema of ~100 models, deterministic for a given seed, so every
 * run of the engine bench hands the engine exactly the same text. Shaped like the schemas of real
 * multi-domain applications: mixed id styles (autoincrement, cuid, uuid), 8–12 scalar fields per
 * model, native types (`@db.VarChar`, `@db.Decimal`, `@db.Uuid`), enums with defaults, snake_case
 * `@map`/`@@map` on about a third of the models, optional fields, `@unique`, compound `@@unique` and
 * `@@index`, many-to-one relations with referential actions (Prisma does not index foreign keys on
 * PostgreSQL, so most get an `@@index`, as the docs advise), one-to-one relations, a few
 * self-relations and implicit many-to-many relations (join tables).
 */

const DOMAINS = ['Billing', 'Catalog', 'Audit', 'Shipping', 'Support', 'Stock', 'Campaign', 'Metric', 'Identity', 'Content', 'Partner', 'Payroll'];
const NOUNS = ['Account', 'Event', 'Item', 'Record', 'Entry', 'Setting', 'Report', 'Note', 'Request', 'Profile', 'Rule', 'Job', 'Task', 'Batch', 'Tag'];
const ENUMS = [
  ['Status', ['DRAFT', 'ACTIVE', 'PAUSED', 'ARCHIVED']],
  ['Visibility', ['PRIVATE', 'INTERNAL', 'PUBLIC']],
  ['Channel', ['EMAIL', 'SMS', 'PUSH', 'WEB', 'API']],
  ['Tier', ['FREE', 'STARTER', 'PRO', 'ENTERPRISE']],
  ['Severity', ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']],
  ['Frequency', ['HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY']],
  ['Region', ['US_EAST', 'US_WEST', 'EU_CENTRAL', 'EU_WEST', 'AP_SOUTH', 'AP_EAST']],
  ['Currency', ['USD', 'EUR', 'GBP', 'JPY', 'CHF']],
  ['Stage', ['LEAD', 'QUALIFIED', 'PROPOSAL', 'WON', 'LOST']],
  ['Format', ['CSV', 'JSON', 'PDF', 'XLSX']],
];
/** Scalar field shapes: [prisma type (with modifiers), attributes, preferred names]. */
const FIELDS = [
  ['String', '', ['title', 'name', 'label', 'code', 'reference', 'source']],
  ['String?', '', ['description', 'notes', 'summary', 'comment', 'subtitle']],
  ['String', '@db.VarChar(191)', ['slug', 'handle', 'externalId', 'sku']],
  ['String?', '@db.VarChar(320)', ['email', 'contactEmail', 'billingEmail']],
  ['String?', '@db.VarChar(32)', ['phone', 'countryCode', 'locale', 'timezone', 'color']],
  ['Int', '@default(0)', ['quantity', 'priority', 'sortOrder', 'attempts', 'version']],
  ['Int?', '', ['rank', 'score', 'durationSeconds', 'retries']],
  ['Boolean', '@default(false)', ['archived', 'enabled', 'verified', 'pinned', 'locked']],
  ['DateTime?', '', ['publishedAt', 'expiresAt', 'archivedAt', 'lastSeenAt', 'dueAt', 'startsAt']],
  ['Decimal', '@default(0) @db.Decimal(12, 2)', ['amount', 'price', 'total', 'balance']],
  ['Decimal?', '@db.Decimal(65, 30)', ['rate', 'ratio', 'weight']],
  ['Float?', '', ['latitude', 'longitude', 'confidence']],
  ['BigInt?', '', ['bytes', 'counter', 'sequence']],
  ['Json?', '', ['metadata', 'settings', 'payload', 'attributes']],
  ['Json', "@default(\"{}\")", ['config', 'options']],
  ['String[]', '', ['tags', 'aliases', 'scopes']],
];
const ACTIONS = ['Cascade', 'Restrict', 'NoAction'];

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

const lowerFirst = (s) => s.charAt(0).toLowerCase() + s.slice(1);
const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/**
 * @param {{ models?: number, seed?: number }} [opts]
 * @returns {{ text: string, stats: { models: number, enums: number, scalarFields: number, relations: number,
 *   oneToOne: number, selfRelations: number, manyToMany: number, indexes: number, uniques: number, mappedModels: number, mappedFields: number } }}
 */
export function generateSchema({ models: count = 100, seed = 20241127 } = {}) {
  const rand = rng(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const chance = (p) => rand() < p;
  const names = DOMAINS.flatMap((d) => NOUNS.map((n) => `${d}${n}`));
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [names[i], names[j]] = [names[j], names[i]];
  }
  if (count > names.length) throw new Error(`at most ${names.length} models`);
  const stats = { models: count, enums: ENUMS.length, scalarFields: 0, relations: 0, oneToOne: 0, selfRelations: 0, manyToMany: 0, indexes: 0, uniques: 0, mappedModels: 0, mappedFields: 0 };

  /** @type {{ name: string, idType: string, idAttrs: string, lines: string[], blockAttrs: string[], fieldNames: Set<string>, mapped: boolean }[]} */
  const models = [];
  const addField = (m, name, type, attrs = '') => {
    m.fieldNames.add(name);
    m.lines.push([name, type, attrs]);
  };
  const uniqueName = (m, base) => {
    if (!m.fieldNames.has(base)) return base;
    for (let k = 2; ; k++) if (!m.fieldNames.has(`${base}${k}`)) return `${base}${k}`;
  };
  // Keeps generated constraint and index names within PostgreSQL's 63 bytes: Prisma would fail otherwise.
  const mapField = (m, name, attrs) => {
    if (!m.mapped || !/[A-Z]/.test(name)) return attrs;
    stats.mappedFields++;
    return `${attrs} @map("${snake(name)}")`.trim();
  };

  for (let i = 0; i < count; i++) {
    const name = names[i];
    const idStyle = pick(['int', 'int', 'cuid', 'cuid', 'uuid']);
    const idType = idStyle === 'int' ? 'Int' : 'String';
    const m = { name, idType, lines: [], blockAttrs: [], fieldNames: new Set(), mapped: chance(0.35) };
    if (m.mapped) stats.mappedModels++;
    addField(m, 'id', idType, idStyle === 'int' ? '@id @default(autoincrement())' : idStyle === 'cuid' ? '@id @default(cuid())' : '@id @default(uuid()) @db.Uuid');
    if (idStyle === 'uuid') m.idNative = '@db.Uuid';
    // 8–12 scalar fields in all, counting id and the two timestamps.
    const scalars = 5 + Math.floor(rand() * 5);
    let uniqueDone = false;
    const plain = [];
    for (let k = 0; k < scalars; k++) {
      if (k === 1 && chance(0.45)) {
        const [enumName, values] = pick(ENUMS);
        const f = uniqueName(m, lowerFirst(enumName));
        addField(m, f, chance(0.2) ? `${enumName}?` : enumName, `@default(${pick(values)})`);
        plain.push(f);
        stats.scalarFields++;
        continue;
      }
      const [type, attrs, words] = pick(FIELDS);
      const f = uniqueName(m, pick(words));
      let a = attrs;
      if (!uniqueDone && (f === 'slug' || f === 'handle' || f === 'externalId' || f === 'sku' || f === 'email') && chance(0.7)) {
        a = `${a} @unique`.trim();
        uniqueDone = true;
        stats.uniques++;
      }
      addField(m, f, type, mapField(m, f, a));
      if (!type.endsWith('[]') && !type.startsWith('Json')) plain.push(f);
      stats.scalarFields++;
    }
    addField(m, 'createdAt', 'DateTime', mapField(m, 'createdAt', '@default(now())'));
    addField(m, 'updatedAt', 'DateTime', mapField(m, 'updatedAt', '@updatedAt'));
    stats.scalarFields += 3;
    if (plain.length >= 2 && chance(0.3)) {
      const cols = [plain[0], plain[1]];
      m.blockAttrs.push(`@@index([${cols.join(', ')}])`);
      stats.indexes++;
    }
    if (m.mapped) m.blockAttrs.push(`@@map("${snake(name)}")`);
    models.push(m);
  }

  // Relations, always from a later model to an earlier one, so the graph has no cycles but depth.
  const relate = (child, parent, { optional, oneToOne, self }) => {
    const base = self ? 'parent' : lowerFirst(parent.name);
    const field = uniqueName(child, base);
    const fk = uniqueName(child, `${field}Id`);
    const relName = self ? `"${child.name}Tree"` : undefined;
    const onDelete = optional ? 'SetNull' : pick(ACTIONS);
    const fkType = `${parent.idType}${optional ? '?' : ''}`;
    let fkAttrs = oneToOne ? '@unique' : '';
    if (parent.idNative) fkAttrs = `${fkAttrs} ${parent.idNative}`.trim();
    addField(child, fk, fkType, mapField(child, fk, fkAttrs));
    const relArgs = [relName, `fields: [${fk}]`, 'references: [id]', `onDelete: ${onDelete}`].filter(Boolean).join(', ');
    addField(child, field, `${parent.name}${optional ? '?' : ''}`, `@relation(${relArgs})`);
    const back = uniqueName(parent, self ? 'children' : oneToOne ? lowerFirst(child.name) : `${lowerFirst(child.name)}s`);
    addField(parent, back, oneToOne ? `${child.name}?` : `${child.name}[]`, relName ? `@relation(${relName})` : '');
    if (oneToOne) stats.oneToOne++;
    else if (chance(0.85)) {
      child.blockAttrs.unshift(`@@index([${fk}])`);
      stats.indexes++;
    }
    if (self) stats.selfRelations++;
    stats.relations++;
    return fk;
  };
  for (let i = 1; i < models.length; i++) {
    const child = models[i];
    const parents = new Set();
    const n = chance(0.15) ? 0 : chance(0.55) ? 1 : 2;
    for (let k = 0; k < n; k++) {
      const parent = models[Math.floor(rand() * i)];
      if (parents.has(parent)) continue;
      parents.add(parent);
      const fk = relate(child, parent, { optional: chance(0.25), oneToOne: chance(0.08), self: false });
      // A compound unique on (parent, a scalar), as in "one slug per account".
      if (k === 0 && chance(0.15)) {
        const scalar = child.lines.find(([f, t]) => f !== 'id' && f !== fk && /^(String|Int)$/.test(t));
        if (scalar) {
          child.blockAttrs.push(`@@unique([${fk}, ${scalar[0]}])`);
          stats.uniques++;
        }
      }
    }
    if (chance(0.05)) relate(child, child, { optional: true, oneToOne: false, self: true });
  }
  // Implicit many-to-many (Prisma's _AToB join tables), between models of the same id type family.
  for (let k = 0; k < 4; k++) {
    const a = models[Math.floor(rand() * models.length)];
    const b = models[Math.floor(rand() * models.length)];
    if (a === b) continue;
    // Named, because the two models may already be related one-to-many (Prisma would call that ambiguous).
    const rel = `@relation("${a.name}${b.name}Links")`;
    addField(a, uniqueName(a, `linked${b.name}s`), `${b.name}[]`, rel);
    addField(b, uniqueName(b, `linked${a.name}s`), `${a.name}[]`, rel);
    stats.manyToMany++;
  }

  const out = [
    '// Generated by bench/schema.mjs (deterministic); a realistic ~100-model schema for the engine bench.',
    '',
    'generator client {',
    '  provider = "prisma-client"',
    '  output   = "../generated/prisma"',
    '}',
    '',
    'datasource db {',
    '  provider = "postgresql"',
    '}',
    '',
  ];
  for (const [name, values] of ENUMS) out.push(`enum ${name} {`, ...values.map((v) => `  ${v}`), '}', '');
  for (const m of models) {
    const w1 = Math.max(...m.lines.map(([f]) => f.length));
    const w2 = Math.max(...m.lines.map(([, t]) => t.length));
    out.push(`model ${m.name} {`);
    for (const [f, t, a] of m.lines) out.push(`  ${f.padEnd(w1)} ${a ? `${t.padEnd(w2)} ${a}` : t}`.trimEnd());
    if (m.blockAttrs.length) out.push('', ...m.blockAttrs.map((b) => `  ${b}`));
    out.push('}', '');
  }
  return { text: out.join('\n'), stats };
}
