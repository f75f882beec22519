/**
 * Webhook notifications (issue 15): an environment's `notify` is told of deploys (started, succeeded,
 * failed with the failure report), refusals (drift, lint, protection) and restores. Every string in
 * the payload passes through `redact` (database passwords, the webhook's own URL). Delivery never
 * fails the command: an error, a non-2xx answer or no answer within the timeout comes back as a
 * warning for the caller to show.
 */
import type { ResolvedEnvironment } from '../config/environments.js';
import { redact } from '../redact.js';

export type NotifyEvent = 'deploy-started' | 'deploy-succeeded' | 'deploy-failed' | 'refused' | 'drift' | 'restore-succeeded' | 'restore-failed';

export interface Notification {
  event: NotifyEvent;
  env: string;
  protection: string;
  /** The command line, e.g. `deploy --env production`. */
  command: string;
  /** One line: what happened (the audit record's summary, or the error's message). */
  summary: string;
  /** The failure report's lines, the fix, the error code: for failures and refusals. */
  details?: string[];
  code?: string;
  fix?: string;
  /** Who ran it (the audit trail's actor). */
  actor?: string;
  at: string;
}

export const NOTIFY_TIMEOUT_MS = 5000;

const ICON: Record<NotifyEvent, string> = {
  'deploy-started': ':hourglass_flowing_sand:',
  'deploy-succeeded': ':white_check_mark:',
  'deploy-failed': ':x:',
  refused: ':no_entry:',
  drift: ':warning:',
  'restore-succeeded': ':leftwards_arrow_with_hook:',
  'restore-failed': ':x:',
};

/** The payload as posted: `{ text }` for Slack, the notification itself (redacted) for JSON. */
export function payload(n: Notification, format: 'slack' | 'json'): string {
  const clean: Notification = JSON.parse(redact(JSON.stringify(n)));
  if (format === 'json') return JSON.stringify({ source: 'stagedb', ...clean });
  const lines = [`${ICON[clean.event]} *${clean.env}* (${clean.protection}): ${clean.event.replace('-', ' ')} — \`stagedb ${clean.command}\``, clean.summary];
  if (clean.details?.length) lines.push('```', ...clean.details.slice(0, 30), '```');
  if (clean.fix) lines.push(`fix: ${clean.fix}`);
  if (clean.actor) lines.push(`by ${clean.actor}`);
  return JSON.stringify({ text: lines.join('\n') });
}

/** Posts to the environment's webhook, if it has one. Never throws: returns a warning line when delivery failed. */
export async function notify(env: ResolvedEnvironment, n: Notification, opts: { timeoutMs?: number } = {}): Promise<string | undefined> {
  if (!env.notify) return undefined;
  const timeoutMs = opts.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  try {
    const res = await fetch(env.notify.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'stagedb' },
      body: payload(n, env.notify.format),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is not needed; reading it frees the connection.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) return `${env.name}: the notify webhook answered HTTP ${res.status} to "${n.event}" (not delivered; the command's outcome is unchanged)`;
    return undefined;
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : redact((e as Error).message);
    return `${env.name}: the notify webhook was not told of "${n.event}": ${why} (the command's outcome is unchanged)`;
  }
}
