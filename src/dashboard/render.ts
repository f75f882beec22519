/**
 * The dashboard as one server-rendered HTML page: every environment side by side, section by
 * section, plots as inline SVG. No script, no external resource (the server's Content-Security-Policy
 * forbids both): the only controls are GET forms that reload the page.
 */
import { formatBytes } from '../backup/manifest.js';
import { ago } from '../render/table.js';
import type { DashboardData, EnvironmentView, Part } from './collect.js';

/** Escapes text for HTML content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface RenderOptions {
  /** The per-run token, carried by the page's own GET forms. */
  token: string;
}

interface Section {
  id: string;
  title: string;
  about: string;
  cell: (e: EnvironmentView) => string;
}

const SECTIONS: Section[] = [
  { id: 'state', title: 'Migrations', about: 'the migrations folder against _prisma_migrations (stagedb status)', cell: stateCell },
  { id: 'drift', title: 'Drift', about: 'the live database against what its applied migrations produce, from .stagedb/drift-cache/ (stagedb status --drift)', cell: driftCell },
  { id: 'backups', title: 'Backups', about: 'the newest backup and its last verification (stagedb backup list)', cell: backupCell },
  { id: 'audit', title: 'Audit trail', about: 'the latest recorded commands (stagedb history)', cell: auditCell },
  { id: 'lint', title: 'Lint of pending migrations', about: 'what deploying here would meet (stagedb lint --env)', cell: lintCell },
  { id: 'advice', title: 'Advice', about: 'indexes, queries, vacuum, connections, locks (stagedb advise)', cell: adviceCell },
  { id: 'plots', title: 'Plots', about: 'largest tables, connections, query time by query', cell: plotsCell },
];

export function renderDashboard(d: DashboardData, o: RenderOptions): string {
  const n = Math.max(1, d.environments.length);
  const head = `<header><h1>stagedb dashboard</h1>
<p class="meta">Read ${esc(d.at.toISOString())} in ${Math.round(d.ms)} ms · ${d.localMigrations} migration${d.localMigrations === 1 ? '' : 's'} in the folder · read-only: this page never changes a database${d.driftChecked ? ' · drift checked now' : ''}</p>
${d.migrationsError ? `<p class="err">migrations folder: ${esc(d.migrationsError.message)}${d.migrationsError.fix ? ` — fix: ${esc(d.migrationsError.fix)}` : ''}</p>` : ''}
<nav><form method="get" action="/"><input type="hidden" name="token" value="${esc(o.token)}"><button type="submit" id="refresh">Refresh</button></form>
<form method="get" action="/"><input type="hidden" name="token" value="${esc(o.token)}"><input type="hidden" name="drift" value="check"><button type="submit" id="check-drift" title="replays the applied migrations on a shadow database where the cache has no answer">Check drift now</button></form></nav></header>`;
  const envHeader = `<div class="grid envs">${d.environments
    .map((e) => `<div class="env" data-env="${esc(e.name)}"><h2>${esc(e.name)}</h2><p class="meta">${esc(e.protection || '?')}${e.target ? ` · ${esc(e.target)}` : ''}</p></div>`)
    .join('')}</div>`;
  const sections = SECTIONS.map(
    (s) =>
      `<section id="${s.id}"><h3>${esc(s.title)} <small>${esc(s.about)}</small></h3><div class="grid">${d.environments
        .map((e) => `<div class="cell" data-env="${esc(e.name)}">${s.cell(e)}</div>`)
        .join('')}</div></section>`,
  ).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>stagedb dashboard</title><style>${CSS.replace('__N__', String(n))}</style></head>
<body>${head}${envHeader}${sections}</body></html>`;
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:1rem 1.5rem;color:#1d2330;background:#f6f7f9}
h1{font-size:1.4rem;margin:0}h2{font-size:1.1rem;margin:0}h3{font-size:1rem;margin:1.2rem 0 .4rem}h3 small{font-weight:normal;color:#667}
.meta{color:#667;margin:.2rem 0}nav{display:flex;gap:.5rem;margin:.5rem 0}button{font:inherit;padding:.3rem .8rem;cursor:pointer}
.grid{display:grid;grid-template-columns:repeat(__N__,minmax(280px,1fr));gap:.75rem}
.env,.cell{background:#fff;border:1px solid #dde;border-radius:6px;padding:.6rem .8rem;overflow:auto}
.ok{color:#176c2c}.warn{color:#8a5a00}.bad,.err{color:#b3261e}.muted{color:#778}
.badge{display:inline-block;padding:0 .45rem;border-radius:9px;font-weight:600;font-size:.85rem}
.b-ok{background:#dff3e4;color:#176c2c}.b-warn{background:#fff0d0;color:#8a5a00}.b-bad{background:#fde0dd;color:#b3261e}.b-muted{background:#eceef2;color:#556}
ul{margin:.3rem 0;padding-left:1.1rem}li{margin:.15rem 0}pre{background:#f2f3f6;padding:.4rem;white-space:pre-wrap;font-size:12px;margin:.3rem 0}
table{border-collapse:collapse;font-size:13px}td,th{padding:.1rem .4rem;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
svg text{font:11px system-ui,sans-serif;fill:#1d2330}.plot{margin:.3rem 0 .8rem}.plot h4{margin:.2rem 0;font-size:.85rem}
code{font-size:12px}`;

const badge = (cls: 'ok' | 'warn' | 'bad' | 'muted', text: string) => `<span class="badge b-${cls}">${esc(text)}</span>`;

function errorBox(p: Part<unknown>): string | undefined {
  if ('value' in p) return undefined;
  return `<p class="err">${badge('bad', 'unavailable')} ${esc(p.error.message)}</p>${p.error.fix ? `<p class="muted">fix: <code>${esc(p.error.fix)}</code></p>` : ''}`;
}

function stateCell(e: EnvironmentView): string {
  const err = errorBox(e.status);
  if (err || !('value' in e.status)) return err!;
  const s = e.status.value;
  const h = s.history;
  const word = { 'up-to-date': badge('ok', 'up to date'), pending: badge('warn', 'pending'), blocked: badge('bad', 'blocked'), error: badge('bad', 'error'), 'not-configured': badge('warn', 'not configured') }[s.state];
  if (!h) return `<p>${word}</p>`;
  const failed = h.failed.length;
  const modified = h.modified.length + h.missingLocally.length;
  const rows: string[] = [];
  for (const m of h.entries) {
    if (m.state === 'pending') rows.push(`<li class="warn">pending <code>${esc(m.name)}</code>${m.outOfOrder ? ' (out of order)' : ''}</li>`);
    if (m.state === 'failed') rows.push(`<li class="bad">FAILED <code>${esc(m.name)}</code> — stagedb migrate resolve --rolled-back ${esc(m.name)} --env ${esc(e.name)}</li>`);
    if (m.state === 'modified') rows.push(`<li class="bad">MODIFIED <code>${esc(m.name)}</code> (changed after it was applied)</li>`);
    if (m.state === 'missing-locally') rows.push(`<li class="bad">MISSING <code>${esc(m.name)}</code> (not in the folder)</li>`);
  }
  return `<p>${word} ${s.serverVersion ? `<span class="muted">PostgreSQL ${esc(s.serverVersion.split(' ')[0])}</span>` : ''}</p>
<table class="counts"><tr><th>applied</th><th>pending</th><th>failed</th><th>modified / missing</th></tr>
<tr><td>${h.applied}</td><td class="${h.pending ? 'warn' : ''}">${h.pending}</td><td class="${failed ? 'bad' : ''}">${failed}</td><td class="${modified ? 'bad' : ''}">${modified}</td></tr></table>
${h.lastApplied ? `<p class="muted">last applied <code>${esc(h.lastApplied.name)}</code> ${esc(ago(h.lastApplied.finishedAt))}</p>` : '<p class="muted">nothing applied yet</p>'}
${rows.length ? `<ul>${rows.slice(0, 20).join('')}${rows.length > 20 ? `<li class="muted">… ${rows.length - 20} more (stagedb status --env ${esc(e.name)})</li>` : ''}</ul>` : ''}`;
}

function driftCell(e: EnvironmentView): string {
  const err = errorBox(e.drift);
  if (err || !('value' in e.drift)) return err!;
  const d = e.drift.value;
  if ('notInCache' in d) return `<p>${badge('muted', 'not checked')} the cache has no answer for this database as it is now</p><p class="muted">check it: <code>stagedb status --drift --env ${esc(e.name)}</code> (or “Check drift now”)</p>`;
  const r = d.report;
  const sql = (t: string) => `<pre>${esc(t.split('\n').filter((l) => l.trim() && !l.startsWith('--')).join('\n'))}</pre>`;
  return `<p>${r.drifted ? badge('bad', 'drift') : badge('ok', 'no drift')} <span class="muted">${r.appliedMigrations.length} applied migrations compared${r.cache === 'hit' ? ', from the cache' : ''}</span></p>
${r.drifted ? `<p>changes made outside the migrations:</p>${sql(r.migrationsToDatabase)}<p class="muted">see: <code>stagedb migrate diff --from migrations --to env:${esc(e.name)}</code></p>` : ''}
${r.databaseToSchema ? `<p class="warn">schema.prisma differs from this database (a new migration would contain ${r.databaseToSchema.split('\n').filter((l) => l.trim() && !l.startsWith('--')).length} SQL lines)</p>` : '<p class="muted">schema.prisma matches this database</p>'}`;
}

function backupCell(e: EnvironmentView): string {
  const err = errorBox(e.backups);
  if (err || !('value' in e.backups)) return err!;
  const b = e.backups.value;
  if (!b.newest) return `<p>${badge('warn', 'no backup')} in <code>${esc(b.location)}</code></p><p class="muted">take one: <code>stagedb backup --env ${esc(e.name)}</code></p>`;
  const m = b.newest.manifest;
  const v = b.newest.verification;
  const verified = v ? `${v.ok ? badge('ok', 'verified') : badge('bad', 'verification failed')} ${esc(ago(new Date(v.at)))}${v.deep ? ' (restored and compared)' : ''}: ${esc(v.summary)}` : `${badge('warn', 'never verified')} <code>stagedb backup verify --env ${esc(e.name)}</code>`;
  return `<p><code>${esc(b.newest.id)}</code></p><p>${esc(ago(new Date(m.finishedAt)))} · ${esc(formatBytes(m.size))} · ${m.migrations.applied.length} migrations · ${esc(m.reason)}</p>
<p>${verified}</p>${b.lastVerified?.verification ? `<p class="muted">last verified backup: <code>${esc(b.lastVerified.id)}</code> ${esc(ago(new Date(b.lastVerified.verification.at)))}</p>` : ''}
<p class="muted">${b.count} backup${b.count === 1 ? '' : 's'} in <code>${esc(b.location)}</code>${b.incomplete ? ` · ${b.incomplete} incomplete` : ''}${b.damaged ? ` · <span class="bad">${b.damaged} damaged</span>` : ''}</p>`;
}

function auditCell(e: EnvironmentView): string {
  const err = errorBox(e.audit);
  if (err || !('value' in e.audit)) return err!;
  const rows = e.audit.value;
  if (!rows.length) return '<p class="muted">no records (guarded and production environments record every command that changes them)</p>';
  const cls = { ok: 'ok', failed: 'bad', refused: 'warn', aborted: 'muted' } as const;
  return `<table>${rows
    .map((r) => `<tr><td class="muted">${esc(ago(new Date(r.at)))}</td><td><code>${esc(r.command)}</code></td><td class="${cls[r.outcome]}">${esc(r.outcome)}</td><td>${esc(r.osUser)}</td></tr><tr><td></td><td colspan="3" class="muted">${esc(r.summary)}</td></tr>`)
    .join('')}</table>`;
}

function lintCell(e: EnvironmentView): string {
  const err = errorBox(e.lint);
  if (err || !('value' in e.lint)) return err!;
  const l = e.lint.value;
  if (!l.pending.length) return `<p>${badge('ok', 'nothing pending')}</p>`;
  const c = l.result.counts;
  const head = `<p>${l.pending.length} pending · ${c.error ? badge('bad', `${c.error} error${c.error === 1 ? '' : 's'}`) : badge('ok', 'no errors')} ${c.warning ? badge('warn', `${c.warning} warning${c.warning === 1 ? '' : 's'}`) : ''}</p>`;
  const items = l.result.findings
    .slice(0, 15)
    .map((f) => `<li class="${f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : 'muted'}"><code>${esc(f.code)}</code> ${esc(f.migration ?? f.file)}:${f.line} ${esc(f.message)}</li>`)
    .join('');
  return `${head}${items ? `<ul>${items}</ul>` : ''}${l.result.findings.length > 15 ? `<p class="muted">… stagedb lint --env ${esc(e.name)}</p>` : ''}`;
}

function adviceCell(e: EnvironmentView): string {
  const err = errorBox(e.advice);
  if (err || !('value' in e.advice)) return err!;
  const a = e.advice.value;
  const sev = { critical: 'bad', warn: 'warn', info: 'muted' } as const;
  const items = a.findings
    .slice(0, 12)
    .map(
      (f) =>
        `<li><span class="badge b-${sev[f.severity]}">${esc(f.severity)}</span> <code>${esc(f.code)}</code> ${esc(f.title)}${f.schemaChange?.add ? `<br><span class="muted">schema.prisma, model ${esc(f.schemaChange.model)}: add <code>${esc(f.schemaChange.add)}</code></span>` : `<br><span class="muted">${esc(f.fix)}</span>`}</li>`,
    )
    .join('');
  const hidden = a.checks.filter((c) => c.status === 'not-visible' || c.status === 'error');
  return `<p>${a.findings.length ? `${a.findings.length} finding${a.findings.length === 1 ? '' : 's'}` : badge('ok', 'nothing found')}</p>${items ? `<ul>${items}</ul>` : ''}${a.findings.length > 12 ? `<p class="muted">… stagedb advise --env ${esc(e.name)}</p>` : ''}${hidden.length ? `<p class="muted">not visible: ${hidden.map((c) => esc(c.code)).join(', ')}</p>` : ''}`;
}

function plotsCell(e: EnvironmentView): string {
  const err = errorBox(e.metrics);
  if (err || !('value' in e.metrics)) return err!;
  const m = e.metrics.value;
  const tables = m.tables.length
    ? barChart('Largest tables', m.tables.map((t) => ({ label: t.name, value: t.bytes, text: `${formatBytes(t.bytes)} · ~${t.rows} rows` })), 'table-sizes')
    : '<p class="muted">no tables yet</p>';
  const c = m.connections;
  const conns = barChart(
    `Connections: ${c.serverTotal} of max_connections ${c.max} on the server (${c.reserved} reserved)`,
    [...c.byState.map((s) => ({ label: s.state, value: s.count, text: String(s.count) })), { label: 'free on server', value: Math.max(0, c.max - c.reserved - c.serverTotal), text: String(Math.max(0, c.max - c.reserved - c.serverTotal)) }],
    'connections',
  );
  const q = m.queries;
  const queries =
    'unavailable' in q
      ? `<div class="plot" data-plot="query-time"><h4>Query time by query</h4><p class="muted">${esc(q.unavailable)}</p></div>`
      : q.rows.length
        ? barChart('Query time by query (total, pg_stat_statements)', q.rows.map((r) => ({ label: r.query.length > 48 ? `${r.query.slice(0, 47)}…` : r.query, title: r.query, value: r.totalMs, text: `${fmtMs(r.totalMs)} · ${r.calls} calls · ${fmtMs(r.meanMs)} avg` })), 'query-time')
        : `<div class="plot" data-plot="query-time"><h4>Query time by query</h4><p class="muted">no statements recorded yet</p></div>`;
  return tables + conns + queries;
}

const fmtMs = (ms: number) => (ms < 1 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** A horizontal bar chart as inline SVG: one bar per item, scaled to the largest. */
export function barChart(title: string, items: Array<{ label: string; value: number; text: string; title?: string }>, id: string): string {
  // label | bar | value text: three columns, so a value never overlaps its bar.
  const labelW = 120;
  const barW = 130;
  const W = labelW + barW + 170;
  const row = 18;
  const max = Math.max(1, ...items.map((i) => i.value));
  const bars = items
    .map((it, k) => {
      const y = k * row;
      const w = Math.max(1, Math.round((barW * it.value) / max));
      const label = it.label.length > 20 ? `${it.label.slice(0, 19)}…` : it.label;
      return `<g><title>${esc(it.title ?? it.label)}: ${esc(it.text)}</title><text x="0" y="${y + 12}">${esc(label)}</text><rect x="${labelW}" y="${y + 3}" width="${w}" height="${row - 6}" fill="#4a7bd0" rx="2"></rect><text x="${labelW + barW + 6}" y="${y + 12}">${esc(it.text)}</text></g>`;
    })
    .join('');
  const h = Math.max(row, items.length * row);
  return `<div class="plot" data-plot="${esc(id)}"><h4>${esc(title)}</h4><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}">${bars}</svg></div>`;
}
