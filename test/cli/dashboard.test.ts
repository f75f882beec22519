import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';

/**
 * `stagedb dashboard`'s flags: a bad or busy --port is a usage error (exit 4) whose fix names the
 * dashboard. What the page shows is tested in headless Chromium (test/browser/dashboard.test.ts).
 */
let project: TempProject;
beforeAll(() => {
  project = createProject({ configJson: { environments: { development: { url: 'postgresql://u:p@127.0.0.1:1/app' } } } });
});
afterAll(() => project?.remove());

describe('stagedb dashboard', () => {
  it('refuses a --port that is not a port number', async () => {
    const r = await runCli(['dashboard', '--port', 'abc', '--no-open'], { cwd: project.dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: --port must be a port number between 1 and 65535, not "abc"
        fix: stagedb dashboard --port 5555 (or leave it out for a free port)
      "
    `);
  });

  it('refuses a busy --port', async () => {
    const busy = createServer();
    await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runCli(['dashboard', '--port', String(port), '--no-open'], { cwd: project.dir });
      expect(r.code).toBe(4);
      expect(r.stderr.replace(String(port), '<port>')).toMatchInlineSnapshot(`
        "error: port <port> on 127.0.0.1 is already in use
          fix: leave --port out and stagedb picks a free port, or choose another: stagedb dashboard --port 5556
        "
      `);
    } finally {
      busy.close();
    }
  });
});
