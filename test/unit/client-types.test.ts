/**
 * The types an application sees (checked by `npm run typecheck`; at run time these assertions are no-ops).
 * Prisma's generated classes have a generic constructor, like `Generated` here.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { createPrismaClient, StagedbPrismaClient } from '../../src/client/index.js';

interface Item {
  id: number;
  name: string;
}
interface AppClient {
  item: { findMany(args?: object): Promise<Item[]>; count(): Promise<number> };
  $queryRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<unknown>;
  $disconnect(): Promise<void>;
}
type Generated = new <Options extends { adapter?: unknown; accelerateUrl?: string; log?: string[] }>(options: Options) => AppClient;

describe('StagedbPrismaClient', () => {
  it('is the application client plus $primary() and $replica(), which return the application client', () => {
    type Db = StagedbPrismaClient<Generated>;
    expectTypeOf<Db['item']>().toEqualTypeOf<AppClient['item']>();
    expectTypeOf<ReturnType<Db['$primary']>>().toEqualTypeOf<AppClient>();
    expectTypeOf<ReturnType<Db['$replica']>>().toEqualTypeOf<AppClient>();
  });

  it('createPrismaClient takes a generated class and resolves to that client', () => {
    type Created = Awaited<ReturnType<typeof createPrismaClient<Generated>>>;
    expectTypeOf<Created['item']['findMany']>().returns.resolves.toEqualTypeOf<Item[]>();
    expectTypeOf<Parameters<typeof createPrismaClient<Generated>>[0]['PrismaClient']>().toEqualTypeOf<Generated>();
  });
});
