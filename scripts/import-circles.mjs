/**
 * Lists the import circles among the .ts files under src/ and exits 1 when there is one (ARCHITECTURE.md: data and
 * calls flow one way). Every edge counts: static imports, `import type`, re-exports, `await import()`
 * and type-level `import('…')`, so a circle that only types close is found too.
 *
 *   node scripts/import-circles.mjs [src]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');
const files = new Set(readdirSync(root, { recursive: true }).filter((f) => f.endsWith('.ts')).map((f) => join(root, f)));
const target = (from, spec) => resolve(dirname(from), spec).replace(/\.js$/, '.ts');
const graph = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/g)) deps.add(target(f, m[1]));
  for (const m of src.matchAll(/import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) deps.add(target(f, m[1]));
  graph.set(f, [...deps].filter((d) => files.has(d)));
}

// Tarjan's strongly connected components: every component of more than one file is a circle.
let next = 0;
const stack = [];
const onStack = new Set();
const index = new Map();
const low = new Map();
const circles = [];
function visit(v) {
  index.set(v, next);
  low.set(v, next);
  next++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v)) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const component = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    component.push(w);
  } while (w !== v);
  if (component.length > 1) circles.push(component.map((f) => relative(root, f)).sort());
}
for (const f of files) if (!index.has(f)) visit(f);

for (const c of circles) console.log(c.join('  <->  '));
console.log(`${circles.length} import circle${circles.length === 1 ? '' : 's'} among ${files.size} files`);
process.exitCode = circles.length > 0 ? 1 : 0;
