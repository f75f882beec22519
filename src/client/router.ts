/**
 * Read-replica routing without Prisma's `$extends`: a `Proxy` over the primary client with the
 * semantics of `@prisma/extension-read-replicas` 0.5.0 (its `readOperations` list, transactions on the
 * primary, `$primary()`, `$replica()`, `$connect`/`$disconnect` of every client).
 *
 * Why not the extension itself (still available: `routing: 'extension'`): every `$extends` query hook
 * puts each query through Prisma's extension pipeline, and the extension then dispatches the read a
 * second time on the replica client. Measured in bench/replicas.mjs on loopback, that is ~15–20 % of a
 * findUnique (~45 µs of CPU per query); this proxy costs about 1 %.
 *
 * A read returns the replica's lazy Prisma promise, which runs on the replica when awaited; handed to a
 * batch `$transaction([...])` it runs on the primary inside the transaction (Prisma asks a promise to
 * join a transaction through `requestTransaction`, which is redirected), as with the extension.
 */

import { AsyncLocalStorage } from 'node:async_hooks';

/** The operations `@prisma/extension-read-replicas` 0.5.0 sends to a replica (`findRaw`/`aggregateRaw` are MongoDB's). */
export const READ_OPERATIONS = new Set(['findFirst', 'findFirstOrThrow', 'findMany', 'findUnique', 'findUniqueOrThrow', 'groupBy', 'aggregate', 'count']);

type AnyFn = (...args: unknown[]) => unknown;
type Client = Record<string | symbol, unknown> & {
  $connect(): Promise<void>;
  $disconnect(): Promise<void>;
  $extends(ext: unknown): Client;
};
interface PrismaPromiseLike extends PromiseLike<unknown> {
  spec?: unknown;
  requestTransaction?(tx: unknown): PromiseLike<unknown>;
}

/** A session's memory: when its last write was sent. */
interface Session {
  lastWrite: number;
}

/**
 * Read-your-writes: after a write in a session (`$session(fn)`: a request, a job), that session's reads
 * go to the primary for `windowMs`, long enough for a replica to replay the write in the common case.
 * Other sessions' reads still go to the replicas.
 */
export interface ReadYourWrites {
  windowMs: number;
  sessions: AsyncLocalStorage<Session>;
}

/** The client's methods that write outside a model delegate. `$queryRaw*` runs on the primary anyway. */
const WRITE_METHODS = new Set(['$executeRaw', '$executeRawUnsafe', '$transaction', '$runCommandRaw']);

/**
 * The client the application gets: `primary` for everything but reads, which go to one of `replicas`
 * (at random, like the extension). Without replicas, `$primary()` and `$replica()` are the client itself.
 */
export function routeReads<T extends object>(primary: T, replicas: object[], windowMs = 0): T {
  return route(primary, replicas, windowMs > 0 ? { windowMs, sessions: new AsyncLocalStorage<Session>() } : undefined);
}

function route<T extends object>(primary: T, replicas: object[], ryw: ReadYourWrites | undefined): T {
  const p = primary as unknown as Client;
  const rs = replicas as unknown as Client[];
  const pick = (): Client => rs[rs.length === 1 ? 0 : Math.floor(Math.random() * rs.length)]!;
  const cache = new Map<string | symbol, unknown>();
  let self: T;
  const sessions = ryw?.sessions;
  const special: Record<string, unknown> = {
    $primary: () => p,
    $replica: () => (rs.length > 0 ? pick() : self),
    // Without read-your-writes (or replicas) it only runs fn, so code can call it in every environment.
    $session: <R>(fn: () => R): R => (sessions ? sessions.run({ lastWrite: 0 }, fn) : fn()),
    $connect: async () => {
      await Promise.all([p.$connect(), ...rs.map((r) => r.$connect())]);
    },
    $disconnect: async () => {
      await Promise.all([p.$disconnect(), ...rs.map((r) => r.$disconnect())]);
    },
    // An application's own extensions apply to every client, and the result routes the same way.
    $extends: (ext: unknown) => route(p.$extends(ext), rs.map((r) => r.$extends(ext)), ryw),
  };
  self = new Proxy(primary, {
    get(target, prop) {
      const hit = cache.get(prop);
      if (hit !== undefined) return hit;
      if (typeof prop === 'string' && Object.hasOwn(special, prop)) return special[prop];
      const value = (target as Record<string | symbol, unknown>)[prop];
      if (typeof value === 'function') {
        let bound = (value as AnyFn).bind(target);
        if (sessions && typeof prop === 'string' && WRITE_METHODS.has(prop)) bound = marking(bound, sessions);
        cache.set(prop, bound);
        return bound;
      }
      if (rs.length > 0 && typeof prop === 'string' && !prop.startsWith('$') && isModel(value)) {
        const model = routedModel(prop, value, rs, pick, ryw);
        cache.set(prop, model);
        return model;
      }
      return value;
    },
  });
  return self;
}

function isModel(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { findMany?: unknown }).findMany === 'function';
}

/**
 * A write that remembers, in the current session, when it was sent and when it finished: the window
 * counts from the end of the write (a write slower than the window would otherwise leave its own
 * read on a replica that has not seen it). The promise stays Prisma's own, lazy and batchable; only its
 * `then` notes the time.
 */
function marking(fn: AnyFn, sessions: AsyncLocalStorage<Session>): AnyFn {
  return (...args: unknown[]) => {
    const s = sessions.getStore();
    const result = fn(...args);
    if (!s) return result;
    s.lastWrite = Date.now();
    const p = result as { then?: AnyFn } | null;
    if (p && typeof p.then === 'function') {
      const then = p.then;
      const done = () => (s.lastWrite = Date.now());
      p.then = function (this: unknown, onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) {
        return then.call(
          this,
          (v: unknown) => (done(), onFulfilled ? onFulfilled(v) : v),
          (e: unknown) => {
            done();
            if (onRejected) return onRejected(e);
            throw e;
          },
        );
      } as AnyFn;
    }
    return result;
  };
}

function routedModel(name: string, primaryModel: Record<string, unknown>, replicas: Client[], pick: () => Client, ryw: ReadYourWrites | undefined): object {
  const ops = new Map<string | symbol, unknown>();
  // Each replica's model delegate, looked up once: Prisma's client getters are not free.
  const replicaModels = new Map<Client, Record<string, AnyFn>>();
  const single = replicas.length === 1 ? (replicas[0]![name] as Record<string, AnyFn>) : undefined;
  const replicaModel = (): Record<string, AnyFn> => {
    if (single) return single;
    const r = pick();
    let m = replicaModels.get(r);
    if (!m) replicaModels.set(r, (m = r[name] as Record<string, AnyFn>));
    return m;
  };
  return new Proxy(primaryModel, {
    get(target, op) {
      const hit = ops.get(op);
      if (hit !== undefined) return hit;
      const value = target[op as string];
      if (typeof value !== 'function') return value;
      let fn: unknown;
      if (typeof op === 'string' && READ_OPERATIONS.has(op)) {
        const onPrimary = (value as AnyFn).bind(target);
        // Model operations take one argument. This runs for every read: no rest/spread, one closure.
        fn = ryw
          ? (args: unknown) => {
              const s = ryw.sessions.getStore();
              if (s && Date.now() - s.lastWrite < ryw.windowMs) return onPrimary(args);
              const promise = replicaModel()[op]!(args) as PrismaPromiseLike;
              promise.requestTransaction = (tx: unknown) => joinOnPrimary(onPrimary(args) as PrismaPromiseLike, tx);
              return promise;
            }
          : (args: unknown) => {
              const promise = replicaModel()[op]!(args) as PrismaPromiseLike;
              promise.requestTransaction = (tx: unknown) => joinOnPrimary(onPrimary(args) as PrismaPromiseLike, tx);
              return promise;
            };
      } else {
        fn = (value as AnyFn).bind(target);
        if (ryw) fn = marking(fn as AnyFn, ryw.sessions);
      }
      ops.set(op, fn);
      return fn;
    },
  });
}

/**
 * A read is the replica's own Prisma promise (lazy: nothing runs until it is awaited, and its fluent
 * relation methods stay), except that joining a batch `$transaction([...])` hands the transaction the
 * primary's promise for the same call instead.
 */
function joinOnPrimary(onPrimary: PrismaPromiseLike, tx: unknown): PromiseLike<unknown> {
  return onPrimary.requestTransaction ? onPrimary.requestTransaction(tx) : onPrimary;
}
