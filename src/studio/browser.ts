import { spawn } from 'node:child_process';

/**
 * Opens `url` in a browser without waiting for it: `browser` names a program (`firefox`,
 * `chromium`, …), or undefined for the system's default opener. Resolves to a warning when nothing
 * could be started; opening a browser is a convenience, never a reason to fail.
 */
export function openBrowser(url: string, browser?: string): Promise<string | undefined> {
  const [cmd, args] = browser
    ? [browser, [url]]
    : process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  return new Promise((resolve) => {
    try {
      const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
      child.once('error', (e) => resolve(`could not open a browser (${cmd}: ${(e as NodeJS.ErrnoException).code ?? e.message}); open ${url} yourself`));
      child.once('spawn', () => {
        child.unref();
        resolve(undefined);
      });
    } catch (e) {
      resolve(`could not open a browser (${cmd}: ${(e as Error).message}); open ${url} yourself`);
    }
  });
}
