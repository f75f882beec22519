/**
 * Which Prisma model and field a table and column belong to, so that advice can be written as a change to
 * schema.prisma (`@@index([authorId])` in `model Post`) rather than as SQL. A reader of the schema's
 * declarations only — models, `@@map`/`@map`, `@relation(fields: …)`, indexes and `relationMode` — that
 * skips comments and strings properly. It names things in advice; nothing is run from it.
 */
export interface PrismaField {
  name: string;
  /** The column: `@map("…")`, else the field's name. */
  column: string;
  type: string;
  /** `@relation(fields: [...], references: [...])` on this field. */
  relation?: { fields: string[]; references: string[] };
}

export interface PrismaModel {
  name: string;
  /** The table: `@@map("…")`, else the model's name. */
  table: string;
  /** `@@schema("…")` (multiSchema). */
  schema?: string;
  fields: PrismaField[];
  /** Field lists of `@@index`, `@@unique`, `@@id`, and single-field `@unique`/`@id`. */
  indexed: string[][];
}

export interface PrismaModelMap {
  models: PrismaModel[];
  /** `relationMode = "prisma"`: no foreign keys exist in the database; relations are Prisma's alone. */
  relationMode: 'foreignKeys' | 'prisma';
}

export const EMPTY_MODELS: PrismaModelMap = { models: [], relationMode: 'foreignKeys' };

/** Removes `//` comments (and `///` doc comments) outside string literals, keeping line breaks. */
function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    out += c;
  }
  return out;
}

const list = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim().replace(/\(.*\)$/, ''))
    .filter(Boolean);

/** Reads the models of one or more schema files. */
export function parsePrismaModels(texts: string[]): PrismaModelMap {
  const models: PrismaModel[] = [];
  let relationMode: PrismaModelMap['relationMode'] = 'foreignKeys';
  for (const raw of texts) {
    const text = stripComments(raw);
    const block = /^[ \t]*(model|datasource)[ \t]+(\w+)[ \t]*\{([\s\S]*?)^[ \t]*\}/gm;
    for (let m = block.exec(text); m; m = block.exec(text)) {
      const [, kind, name, body] = m;
      if (kind === 'datasource') {
        if (/^\s*relationMode\s*=\s*"prisma"/m.test(body!)) relationMode = 'prisma';
        continue;
      }
      const model: PrismaModel = { name: name!, table: name!, fields: [], indexed: [] };
      for (const line of body!.split('\n').map((l) => l.trim()).filter(Boolean)) {
        if (line.startsWith('@@')) {
          const map = /^@@map\(\s*(?:name:\s*)?"([^"]+)"/.exec(line);
          if (map) model.table = map[1]!;
          const schema = /^@@schema\(\s*"([^"]+)"/.exec(line);
          if (schema) model.schema = schema[1]!;
          const idx = /^@@(index|unique|id)\(\s*(?:fields:\s*)?\[([^\]]*)\]/.exec(line);
          if (idx) model.indexed.push(list(idx[2]));
          continue;
        }
        const f = /^(\w+)\s+([\w.]+)(\[\])?(\?)?\s*(.*)$/.exec(line);
        if (!f) continue;
        const [, fname, ftype, , , attrs] = f;
        const field: PrismaField = { name: fname!, column: fname!, type: ftype! };
        const map = /@map\(\s*(?:name:\s*)?"([^"]+)"/.exec(attrs!);
        if (map) field.column = map[1]!;
        const rel = /@relation\(([^)]*(?:\([^)]*\)[^)]*)*)\)/.exec(attrs!);
        if (rel) {
          const fields = /fields:\s*\[([^\]]*)\]/.exec(rel[1]!);
          const refs = /references:\s*\[([^\]]*)\]/.exec(rel[1]!);
          if (fields) field.relation = { fields: list(fields[1]), references: list(refs?.[1]) };
        }
        if (/@(unique|id)\b/.test(attrs!)) model.indexed.push([fname!]);
        model.fields.push(field);
      }
      models.push(model);
    }
  }
  return { models, relationMode };
}

/** The model of a table (matched by `@@map` or name, and `@@schema` when the schema is not public). */
export function modelOfTable(map: PrismaModelMap, table: string, schema = 'public'): PrismaModel | undefined {
  return map.models.find((m) => m.table === table && (m.schema ?? schema) === schema) ?? map.models.find((m) => m.table === table);
}

/** The field names for columns of a model (a column without a field keeps its own name). */
export function fieldsOfColumns(model: PrismaModel | undefined, columns: string[]): string[] {
  return columns.map((c) => model?.fields.find((f) => f.column === c)?.name ?? c);
}
