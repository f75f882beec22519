/**
 * The one redaction function. Every URL, error message and log line that leaves stagedb (terminal,
 * JSON, audit rows, log files) passes through `redact`. It masks:
 *  - the password part of any `scheme://user:password@host` URL,
 *  - `password=` / `sslpassword=` key-value pairs (libpq keyword form and URL query strings),
 *  - Accelerate `api_key=` query values (they are credentials too),
 *  - every secret registered with `registerSecret` wherever it appears verbatim (a driver error may
 *    echo a password in a form none of the patterns above recognise).
 */
const MASK = '****';
const secrets = new Set<string>();

/** Remember a secret so that `redact` masks it wherever it shows up later. Short values are ignored:
 * masking "a" everywhere would destroy messages and protect nothing. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 4) return;
  secrets.add(value);
  try {
    const decoded = decodeURIComponent(value);
    if (decoded !== value && decoded.length >= 4) secrets.add(decoded);
  } catch {
    /* not URI-encoded: nothing more to register */
  }
  const encoded = encodeURIComponent(value);
  if (encoded !== value) secrets.add(encoded);
}

// The password runs to the last @ before whitespace or a quote: a URL nobody percent-encoded may
// hold a raw @ in its password, and masking a little too much beats showing the rest of it.
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*):([^\s'"]*)@/gi;
// libpq's keyword form quotes values with spaces ('my secret', with \' inside), so a quoted value is masked whole.
/** SQL that sets a password (CREATE/ALTER ROLE … PASSWORD '…') can reach a failure report or `logs`. */
const SQL_PASSWORD = /\b(PASSWORD)\s+'(?:[^']|'')*'/gi;
const KEY_VALUE = /\b(password|sslpassword|api_key|apikey)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&'"]+)/gi;

export function redact(text: string): string {
  // `PASSWORD` is the placeholder our own fix hints use (postgresql://USER:PASSWORD@HOST/DB): keep it.
  // Only a URL can match URL_USERINFO, and its backtracking costs ~10 ms per MB of text without one
  // (`lint --json` of a long history): skip it when there is no "://" at all.
  let out = text.includes('://') ? text.replace(URL_USERINFO, (m, head: string, pass: string) => (pass === 'PASSWORD' ? m : `${head}:${MASK}@`)) : text;
  out = out.replace(KEY_VALUE, (_m, key: string) => `${key}=${MASK}`);
  out = out.replace(SQL_PASSWORD, (_m, kw: string) => `${kw} '${MASK}'`);
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.replace(secretPattern(s), MASK);
  }
  return out;
}

/**
 * A registered secret as a whole token: not inside a longer run of letters and digits. Without this
 * the guide's own `postgresql://user:pass@…` turned every "password authentication failed" into
 * "****word authentication failed", and a `postgres` password mangled every postgresql:// URL. A
 * `%XX` escape right before the secret still counts as a boundary (`password%3D<secret>`).
 */
function secretPattern(secret: string): RegExp {
  const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const before = /^[A-Za-z0-9]/.test(secret) ? '(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))' : '';
  const after = /[A-Za-z0-9]$/.test(secret) ? '(?![A-Za-z0-9])' : '';
  return new RegExp(`${before}${escaped}${after}`, 'g');
}
