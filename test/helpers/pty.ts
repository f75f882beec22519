import { spawn } from 'node:child_process';
import { assertBuilt, BIN, type CliResult } from './cli.js';

/**
 * Runs `stagedb <args>` on a pseudo-terminal (so it prompts, as in a developer's shell), waits until
 * its output contains `waitFor`, then types `input` (e.g. "\x04" for Ctrl-D). Python's pty module
 * drives the terminal: Node has none of its own. stdout and stderr arrive mixed, as on a terminal.
 */
export async function runCliOnTty(args: string[], options: { cwd: string; env?: Record<string, string>; waitFor: string; input: string; timeoutMs?: number }): Promise<CliResult> {
  assertBuilt();
  const driver = `
import os, pty, sys, time, select, fcntl, termios, struct
wait_for, data = sys.argv[1].encode(), sys.argv[2].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
# A real terminal's size: with none, the prompt library wraps every character onto a line of its own.
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 200, 0, 0))
out = b''
sent = False
deadline = time.time() + float(os.environ.get('PTY_TIMEOUT', '30'))
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not sent and wait_for in out:
        time.sleep(0.2)
        os.write(fd, data)
        sent = True
done, status = os.waitpid(pid, os.WNOHANG)
if done == 0:
    os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else status >> 8)
`;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', TERM: 'dumb', PTY_TIMEOUT: String((options.timeoutMs ?? 30_000) / 1000) };
  for (const [k, v] of Object.entries(options.env ?? {})) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', driver, options.waitFor, options.input, process.execPath, BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code, stdout, stderr, all: `${stdout}\n${stderr}` });
    });
  });
}
