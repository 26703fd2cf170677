import { percentile } from './latency-stats';
import { RehearsalReport, weightsLabel } from './rehearsal-report';
import { Timeline } from './timeline';
import { shortJson } from './round-trip';

/**
 * The rehearsal as one self-contained HTML page: no scripts, no fetches, charts as inline SVG.
 * Every series and boundary is labelled in words and drawn with its own dash pattern, so the page
 * reads without colour; colours follow prefers-color-scheme.
 */

const esc = (s: unknown) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const W = 900;
const H = 260;
const PAD = { left: 56, right: 16, top: 28, bottom: 40 };

interface Scale {
  x: (t: number) => number;
  y: (v: number) => number;
  maxT: number;
  maxV: number;
}

function scale(maxT: number, maxV: number): Scale {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const t = Math.max(maxT, 1);
  const v = Math.max(maxV, 1e-9);
  return { x: (x) => PAD.left + (x / t) * iw, y: (y) => PAD.top + ih - (Math.min(y, v) / v) * ih, maxT: t, maxV: v };
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function axes(s: Scale, yLabel: string, yFmt: (v: number) => string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * s.maxV);
  const tTicks = Array.from({ length: 6 }, (_, i) => (i / 5) * s.maxT);
  return [
    `<line class="axis" x1="${PAD.left}" y1="${s.y(0)}" x2="${W - PAD.right}" y2="${s.y(0)}"/>`,
    `<line class="axis" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${s.y(0)}"/>`,
    ...ticks.map(
      (v) =>
        `<line class="grid" x1="${PAD.left}" y1="${s.y(v)}" x2="${W - PAD.right}" y2="${s.y(v)}"/><text class="tick" x="${PAD.left - 6}" y="${s.y(v) + 4}" text-anchor="end">${esc(yFmt(v))}</text>`,
    ),
    ...tTicks.map(
      (t) =>
        `<text class="tick" x="${s.x(t)}" y="${s.y(0) + 16}" text-anchor="middle">${(t / 1000).toFixed(1)} s</text>`,
    ),
    `<text class="axis-label" x="${PAD.left}" y="${PAD.top - 10}">${esc(yLabel)}</text>`,
    `<text class="axis-label" x="${W - PAD.right}" y="${H - 6}" text-anchor="end">time since traffic started</text>`,
  ].join('');
}

/** The canary's share: the newest version with traffic, e.g. `v2 10%`. */
function canaryLabel(w: Timeline['phases'][number]['weights']): string {
  const entries = Object.entries(w).filter(([, v]) => v !== undefined);
  if (entries.length < 2) return '';
  const [k, v] = entries[entries.length - 1];
  return `${k} ${v}%`;
}

/** Stage boundaries (solid, labelled with the stage) and canary-weight steps (dotted, labelled with the canary's share). */
function boundaries(s: Scale, tl: Timeline): string {
  const out: string[] = [];
  let previous = '';
  let stageIndex = 0;
  tl.phases.forEach((p) => {
    const x = s.x(p.startMs);
    const isStage = p.stage !== previous;
    previous = p.stage;
    if (isStage) stageIndex++;
    out.push(
      `<line class="${isStage ? 'stage-line' : 'weight-line'}" x1="${x}" y1="${PAD.top}" x2="${x}" y2="${s.y(0)}"><title>${esc(`${p.stage}: ${weightsLabel(p.weights)}`)}</title></line>`,
    );
    if (isStage)
      out.push(
        `<text class="stage-label" x="${x + 3}" y="${PAD.top + 10 + (stageIndex % 2) * 11}">${esc(p.stage)}</text>`,
      );
    const canary = canaryLabel(p.weights);
    if (canary) out.push(`<text class="weight-label" x="${x + 3}" y="${PAD.top + 34}">${esc(canary)}</text>`);
  });
  return out.join('');
}

function path(points: readonly (readonly [number, number])[], s: Scale): string {
  if (!points.length) return '';
  return 'M' + points.map(([t, v]) => `${s.x(t).toFixed(1)},${s.y(v).toFixed(1)}`).join(' L');
}

/** p50 and p99 of write latency in fixed windows. */
function latencySeries(tl: Timeline): { p50: [number, number][]; p99: [number, number][] } {
  const end = tl.phases.length ? tl.phases[tl.phases.length - 1].endMs : 0;
  const window = Math.max(100, end / 60);
  const p50: [number, number][] = [];
  const p99: [number, number][] = [];
  for (let start = 0; start < end; start += window) {
    const inside = tl.writes.filter(([t]) => t >= start && t < start + window).map(([, ms]) => ms);
    if (!inside.length) continue;
    const mid = start + window / 2;
    p50.push([mid, percentile(inside, 50)]);
    p99.push([mid, percentile(inside, 99)]);
  }
  return { p50, p99 };
}

function latencyChart(tl: Timeline): string {
  const { p50, p99 } = latencySeries(tl);
  const end = tl.phases.length ? tl.phases[tl.phases.length - 1].endMs : 1;
  const s = scale(end, niceMax(Math.max(1, ...p99.map(([, v]) => v))));
  const last = (pts: [number, number][]) => pts[pts.length - 1];
  const label = (pts: [number, number][], text: string, cls: string, dy: number) => {
    const l = last(pts);
    return l
      ? `<text class="${cls}" x="${Math.min(s.x(l[0]) + 4, W - PAD.right - 40)}" y="${Math.max(PAD.top + 12, Math.min(s.y(0) - 3, s.y(l[1]) + dy))}">${text}</text>`
      : '';
  };
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="lat-title" class="chart">
<title id="lat-title">Write latency over time, p50 and p99, with stage and canary-weight boundaries</title>
${axes(s, 'write latency (ms)', (v) => v.toFixed(v < 10 ? 1 : 0))}
${boundaries(s, tl)}
<path class="p99" d="${path(p99, s)}"/>
<path class="p50" d="${path(p50, s)}"/>
${label(p99, 'p99', 'series-label', -6)}${label(p50, 'p50', 'series-label', 14)}
</svg>
<p class="legend"><span class="key p50-key"></span> p50 (solid) &nbsp; <span class="key p99-key"></span> p99 (dashed) &nbsp; <span class="key stage-key"></span> stage starts (labelled) &nbsp; <span class="key weight-key"></span> canary weight steps (labelled with the canary's share)</p>`;
}

function backfillChart(tl: Timeline): string {
  if (!tl.backfill.length) return '<p>No backfill progress was reported (nothing to backfill).</p>';
  const end = tl.phases.length ? tl.phases[tl.phases.length - 1].endMs : 1;
  const s = scale(end, 100);
  const begun = tl.phases.find((p) => p.stage === 'backfill');
  const pts = [
    ...(begun ? [[begun.startMs, 0] as const] : []),
    ...tl.backfill.map(([t, done, total]) => [t, total ? Math.min(100, (100 * done) / total) : 100] as const),
  ];
  const last = pts[pts.length - 1];
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="bf-title" class="chart">
<title id="bf-title">Backfill progress over time, percent of rows</title>
${axes(s, 'backfill done (%)', (v) => `${v.toFixed(0)}%`)}
${boundaries(s, tl)}
<path class="backfill" d="${path(pts, s)}"/>
${pts.map(([t, v]) => `<circle class="backfill-dot" cx="${s.x(t).toFixed(1)}" cy="${s.y(v).toFixed(1)}" r="2.5"/>`).join('')}
<text class="series-label" x="${Math.min(s.x(last[0]) + 6, W - PAD.right - 60)}" y="${s.y(last[1]) + 48}">${last[1].toFixed(0)}% done</text>
</svg>`;
}

function lockChart(tl: Timeline, r: RehearsalReport): string {
  const end = tl.phases.length ? tl.phases[tl.phases.length - 1].endMs : 1;
  const slow = tl.writes.filter(([, ms]) => ms > tl.lockTimeoutMs);
  const maxV = niceMax(Math.max(tl.lockTimeoutMs * 1.2, ...slow.map(([, v]) => v)));
  const s = scale(end, maxV);
  const y = s.y(tl.lockTimeoutMs);
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="lock-title" class="chart">
<title id="lock-title">Lock waits: writes slower than the lock timeout, and the executor's lock retries</title>
${axes(s, 'write latency (ms), writes above the lock timeout only', (v) => v.toFixed(0))}
${boundaries(s, tl)}
<line class="limit" x1="${PAD.left}" y1="${y}" x2="${W - PAD.right}" y2="${y}"/>
<text class="series-label" x="${W - PAD.right - 4}" y="${y - 4}" text-anchor="end">lock_timeout ${tl.lockTimeoutMs} ms</text>
${slow.map(([t, v]) => `<rect class="slow" x="${(s.x(t) - 3).toFixed(1)}" y="${(s.y(v) - 3).toFixed(1)}" width="6" height="6"><title>${v.toFixed(1)} ms</title></rect>`).join('')}
${tl.lockWaits.map((l) => `<path class="retry" d="M${s.x(l.t).toFixed(1)},${PAD.top + 4} l-5,-9 h10 z"><title>${esc(l.message)}</title></path>`).join('')}
</svg>
<p class="legend">Squares: app writes slower than the lock timeout (${slow.length}). Triangles at the top: the executor's lock waits (${tl.lockWaits.length}). Longest app write: ${r.lock_waits.max_write_ms} ms.</p>`;
}

function table(header: string[], rows: (string | number)[][], numeric: boolean[] = []): string {
  return `<table><thead><tr>${header.map((h, i) => `<th${numeric[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function failureList(r: RehearsalReport): string {
  const items: string[] = [];
  for (const f of r.failure_samples)
    items.push(`FAILED WRITE: ${f.version} ${f.op}${f.id ? ' of ' + f.id : ''} during ${f.stage}: ${f.message}`);
  for (const m of r.mismatch_samples)
    items.push(
      `LOST OR ALTERED: ${m.version} ${m.stage} write to row ${m.id}, seen by ${m.seenBy}: expected ${shortJson(m.expected)}, got ${shortJson(m.actual)}`,
    );
  for (const rt of r.round_trip ?? []) for (const e of rt.defect_examples) items.push(`SPEC DEFECT: ${e}`);
  for (const l of r.lost_on_rollback?.samples ?? [])
    items.push(
      `LOST ON ROLLBACK: ${l.version} ${l.stage} write to row ${l.id} wrote ${shortJson(l.wrote)}; a walk back gives ${shortJson(l.rollback_gives)}`,
    );
  for (const f of r.findings ?? []) items.push(`FINDING (the spec or the app, not Tandem): ${f}`);
  if (!r.verify.ok && !r.findings?.length) items.push(`VERIFY: ${r.verify.message}`);
  if (!items.length)
    return '<p class="verdict-ok"><strong>No failures.</strong> No write failed, none was lost or altered, verify passed.</p>';
  return `<ol class="failures">${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ol>`;
}

export function renderHtmlReport(r: RehearsalReport): string {
  const tl: Timeline = r.timeline ?? {
    phases: [],
    writes: [],
    backfill: [],
    lockWaits: [],
    lockTimeoutMs: r.lock_waits.lock_timeout_ms,
  };
  const verdict = `${r.failed_writes} failed writes, ${r.failed_reads} failed reads, ${r.lost_or_altered_writes} lost or altered writes of ${r.acknowledged_writes} acknowledged`;
  const stages = table(
    ['stage', 'app versions', 'writes', 'reads', 'failed writes', 'p50 ms', 'p99 ms', 'max ms'],
    r.stages.map((s) => [
      s.stage,
      s.versions.join(' + '),
      s.writes,
      s.reads,
      s.failed_writes,
      s.p50_ms.toFixed(1),
      s.p99_ms.toFixed(1),
      s.max_ms.toFixed(1),
    ]),
    [false, false, true, true, true, true, true, true],
  );
  const canary = r.stages
    .filter((s) => s.canary)
    .map(
      (s) =>
        `<p><strong>${esc(s.stage)}</strong> canary steps: ${s.canary!.map((c) => esc(`${weightsLabel(c.weights)} (${c.writes} writes, p99 ${c.p99_ms.toFixed(1)} ms)`)).join('; ')}</p>`,
    )
    .join('');
  const totals = table(
    ['total', 'value'],
    [
      ['acknowledged writes', r.acknowledged_writes],
      ['failed writes', r.failed_writes],
      ['failed reads', r.failed_reads],
      ['lost or altered writes', r.lost_or_altered_writes],
      ['reads checked', r.reads_checked],
      ...(r.rejected_by_schema !== undefined
        ? [['rejected by the schema (not Tandem failures)', r.rejected_by_schema] as (string | number)[]]
        : []),
      ...(r.spec_defects !== undefined ? [['spec defects', r.spec_defects] as (string | number)[]] : []),
      ...(r.lost_on_rollback ? [['writes lost on rollback', r.lost_on_rollback.count] as (string | number)[]] : []),
      ['backfill', `${r.backfill.rows} rows in ${r.backfill.batches} batches, ${r.backfill_rows_per_s} rows/s`],
      ['seconds', r.seconds],
    ],
    [false, true],
  );
  const roundTrip = r.round_trip?.length
    ? `<h2>up and down, tried on values</h2>${table(
        ['operation', 'realistic values', 'spec defects', 'variations', 'rollback risks'],
        r.round_trip.map((x) => [x.operation, x.realistic_values, x.defects, x.variations, x.rollback_risks]),
        [false, true, true, true, true],
      )}${r.round_trip.flatMap((x) => x.risk_examples.slice(0, 3).map((e) => `<p class="risk">ROLLBACK RISK (not a failure): ${esc(e)}</p>`)).join('')}`
    : '';
  // Failure first: when the rehearsal failed, what failed comes right after the verdict.
  const failures = `<h2>Failures</h2>\n<div id="failures">${failureList(r)}</div>\n`;
  return page(
    `tandem rehearse ${r.migration}: ${r.ok ? 'PASSED' : 'FAILED'}`,
    `<h1>tandem rehearse <code>${esc(r.migration)}</code></h1>
<p class="verdict ${r.ok ? 'pass' : 'fail'}" id="verdict">${r.ok ? 'PASSED: zero downtime' : 'FAILED'}: ${esc(verdict)}</p>
<p>${r.schema ? `Table ${esc(r.schema.table)} (schema: ${esc(r.schema.source)}${r.schema.tables.length ? `, with ${esc(r.schema.tables.join(', '))}` : ''}; rows: ${esc(r.schema.rows)}), ` : ''}${r.rows} rows, app traffic as ${esc(r.app_role)}, on a ${esc(r.database)} database. Verify: ${esc(r.verify.message)}</p>
${r.ok ? '' : failures}
<h2>Totals</h2>
<div id="totals">${totals}</div>
<h2>Stages</h2>
<div id="stages">${stages}${canary}</div>
<h2>Write latency over time</h2>
${latencyChart(tl)}
<h2>Backfill progress</h2>
${backfillChart(tl)}
<h2>Lock waits</h2>
${lockChart(tl, r)}
${roundTrip}
${r.ok ? failures : ''}`,
  );
}

/**
 * The page for a rehearsal that stopped before its verdict (bad input, a constraint the generator
 * cannot satisfy, an executor step that failed): why, first, then what happened until then.
 */
export function renderStoppedReport(migration: string, message: string, log: readonly string[]): string {
  const items = log.length
    ? `<ol class="log">${log.map((l) => `<li>${esc(l)}</li>`).join('')}</ol>`
    : '<p>Nothing: it stopped while setting up.</p>';
  return page(
    `tandem rehearse ${migration}: FAILED`,
    `<h1>tandem rehearse <code>${esc(migration)}</code></h1>
<p class="verdict fail" id="verdict">FAILED: the rehearsal stopped before its verdict</p>
<h2>Failures</h2>
<div id="failures"><ol class="failures"><li>${esc(message)}</li></ol></div>
<h2>What happened until then</h2>
<div id="log">${items}</div>
`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #5a5a5a; --grid: #dddddd; --accent: #0b5cad; --bad: #a4161a; --good: #1b6e20; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8e8; --bg: #161616; --muted: #a8a8a8; --grid: #3a3a3a; --accent: #7cb7ff; --bad: #ff8a80; --good: #8fd694; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto; max-width: 960px; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.verdict { font-size: 1.2rem; font-weight: bold; padding: .5rem .75rem; border: 3px solid; }
.verdict.pass { color: var(--good); border-style: solid; } .verdict.fail { color: var(--bad); border-style: double; border-width: 6px; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { border-bottom: 1px solid var(--grid); padding: .25rem .6rem; text-align: left; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { width: 100%; height: auto; font: 11px system-ui, sans-serif; }
.axis { stroke: var(--fg); } .grid { stroke: var(--grid); stroke-width: .5; } .tick, .axis-label, .weight-label { fill: var(--muted); } .stage-label, .series-label { fill: var(--fg); font-weight: bold; }
.stage-line { stroke: var(--fg); stroke-width: 1.2; } .weight-line { stroke: var(--muted); stroke-dasharray: 1 3; }
.p50 { fill: none; stroke: var(--accent); stroke-width: 2; } .p99 { fill: none; stroke: var(--bad); stroke-width: 2; stroke-dasharray: 6 4; }
.backfill { fill: none; stroke: var(--accent); stroke-width: 2; } .backfill-dot { fill: var(--accent); }
.limit { stroke: var(--bad); stroke-dasharray: 8 3 2 3; } .slow { fill: none; stroke: var(--bad); stroke-width: 1.5; } .retry { fill: var(--fg); }
.legend { color: var(--muted); font-size: .9rem; } .key { display: inline-block; width: 28px; height: 0; vertical-align: middle; border-top: 2px solid var(--fg); }
.p50-key { border-top-style: solid; } .p99-key { border-top-style: dashed; } .stage-key { border-top-width: 1px; } .weight-key { border-top-style: dotted; }
.failures li { margin: .3rem 0; } .risk { color: var(--muted); } .verdict-ok { color: var(--good); }
code { font-size: .9em; }
</style>
</head>
<body>
${body}</body>
</html>
`;
}
