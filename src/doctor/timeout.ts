/** Resolves `p`, or rejects with a `timeout` error after `ms`; the timer never keeps the process alive. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms / 1000}s`), { code: 'ETIMEOUT' })), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export const isLoopback = (host: string) => host === 'localhost' || host.startsWith('127.') || host === '::1' || host.startsWith('/');
