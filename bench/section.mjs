/**
 * What every bench script that owns a section of bench/RESULTS.md shares: replacing its section
 * between its markers (appended the first time; the rest of the file stays as it is), and running
 * itself when started directly (`node bench/<name>.mjs`) rather than imported by bench/run.mjs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The markers of section `name`: `<!-- name:start (written by bench/<file>) -->` … `<!-- name:end -->`. */
export function markers(name, file = `${name}.mjs`) {
  return { START: `<!-- ${name}:start (written by bench/${file}) -->`, END: `<!-- ${name}:end -->` };
}

/** Replaces the section between `start` and `end` in `file` with `md` (which carries the markers), or appends it. */
export function writeSection(file, md, { START, END }) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  const next = a >= 0 && b > a ? `${text.slice(0, a)}${md.trimEnd()}${text.slice(b + END.length)}` : `${text.trimEnd()}\n\n${md}`;
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}

/** Runs `main` when the module at `moduleUrl` is the script node was started with. */
export function runIfMain(moduleUrl, label, main) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(resolve(process.argv[1])).href) return;
  main().catch((e) => {
    process.stderr.write(`${label}: ${e.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
