#!/usr/bin/env node
/**
 * The application's load for bench/zero-downtime.mjs, in a process of its own so the deploy's work
 * never delays its clock: CLIENTS connections, RATE transactions per second in all, each scheduled at a
 * fixed time (like pgbench -R); a transaction's latency counts from when it was due, so time spent
 * queued behind a lock counts. Each transaction: a read of one Account row, then (one statement, one
 * round trip) an update of its balance and an insert into Ledger. Runs until SIGTERM, then prints one JSON line of [finished at (epoch ms), latency ms, ok].
 *   node bench/zdt-load.mjs <url> <rate> <clients> <accounts>
 */
import pg from 'pg';

const [url, rateArg, clientsArg, accountsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const clients = Number(clientsArg);
const accounts = Number(accountsArg);
const samples = [];
let running = true;
let ledgerId = 1e9 + Math.floor(Math.random() * 1e8);

async function worker(k) {
  const c = new pg.Client({ connectionString: url, application_name: 'bench-app' });
  c.on('error', () => {});
  await c.connect();
  const interval = (1000 * clients) / rate;
  let due = performance.now() + (k * interval) / clients;
  while (running) {
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (!running) break;
    const id = 1 + Math.floor(Math.random() * accounts);
    let ok = true;
    try {
      await c.query('SELECT id, balance FROM "Account" WHERE id = $1', [id]);
      // One round trip, one transaction: the account's balance, then its ledger entry (parent, then child).
      await c.query('WITH a AS (UPDATE "Account" SET balance = balance + 1 WHERE id = $1 RETURNING id) INSERT INTO "Ledger" (id, "accountId", amount) SELECT $2, id, 1 FROM a', [id, ledgerId++]);
    } catch {
      ok = false;
    }
    samples.push([Date.now(), Math.round((performance.now() - due) * 10) / 10, ok ? 1 : 0]);
    due += interval;
  }
  await c.end().catch(() => {});
}

const workers = Array.from({ length: clients }, (_, k) => worker(k));
process.on('SIGTERM', async () => {
  running = false;
  await Promise.all(workers);
  // [finished at (epoch ms), latency ms, ok]
  // Exit only once the pipe has taken it all: a large write to a pipe is asynchronous.
  process.stdout.write(`${JSON.stringify(samples)}\n`, () => process.exit(0));
});
process.stdout.write('ready\n');
