import * as fs from 'fs';
import { ProgressEvent } from '../../executor/types';
import { renderHtmlReport, renderStoppedReport } from '../../rehearsal/html-report';
import { UsageError } from '../../phases/errors';
import { loadSpecFile } from '../../executor/spec-file';
import { rehearse, RehearsalEvent, reportTable } from '../../rehearsal/rehearse';
import { schemaBeside } from '../../rehearsal/schema-beside';
import { RehearsalReport, weightsLabel } from '../../rehearsal/rehearsal-report';
import { percentile } from '../../rehearsal/latency-stats';
import { shortJson } from '../../rehearsal/round-trip';
import { Command, CommandContext } from '../command';
import { activity } from '../step-context';
import { ExitCode } from '../exit-code';
import { failureOutcome, successOutcome } from '../outcome';
import { errorMessage } from '../../phases/error-fields';

/**
 * `tandem rehearse SPEC`: the whole stage sequence on a scratch database under simulated app
 * traffic; exit 0 only when no write failed and none was lost or altered.
 */
export const rehearseCommand: Command = {
  name: 'rehearse',
  usage: 'SPEC',
  summary:
    'rehearse every stage on a scratch database under v1/v2/v3 app traffic; fails on any failed, lost or altered write, or a spec whose down loses values',
  flags: {
    schema: {
      kind: 'string',
      value: 'FILE.sql',
      description: "SQL that creates the spec's table (and what it needs) on the scratch server",
    },
    'schema-from': {
      kind: 'string',
      value: 'URL',
      description: "copy the table's definition, and the tables its foreign keys need, from this database (read-only)",
    },
    sample: {
      kind: 'integer',
      value: 'N',
      min: 1,
      description: 'with --schema-from, copy N real rows instead of generating them',
    },
    report: {
      kind: 'string',
      value: 'FILE.html',
      description: 'write the rehearsal as one self-contained HTML page (charts in SVG)',
    },
    rows: {
      kind: 'integer',
      value: 'N',
      min: 0,
      default: 10000,
      description: "rows to generate (the demo: customers besides the talk's names)",
    },
    'database-url': {
      kind: 'string',
      value: 'URL',
      description:
        'an EMPTY database of its own to rehearse in, emptied again afterwards (default: a throwaway PostgreSQL from the local binaries; DATABASE_URL is deliberately not read)',
    },
    'lock-timeout': {
      kind: 'integer',
      value: 'MS',
      min: 1,
      default: 1000,
      description: "the executor's lock_timeout for DDL",
    },
    'step-ms': {
      kind: 'integer',
      value: 'MS',
      min: 1,
      default: 1500,
      description: 'traffic time at each canary weight and in each stage',
    },
    keep: { kind: 'boolean', description: "with --database-url, keep the rehearsal's table afterwards for inspection" },
    'break-checks': {
      kind: 'integer',
      value: 'PERCENT',
      min: 1,
      max: 100,
      description:
        "that share of the old version's inserts break the CHECKs the spec adds, as an old app still may: verify must report them before contract (a finding, exit 1)",
    },
  },
  async run(ctx) {
    const [path, ...extra] = ctx.args.positionals;
    if (!path)
      throw new UsageError('tandem rehearse needs a spec file, e.g. tandem rehearse migrations/split-full-name.yaml');
    if (extra.length)
      throw new UsageError(`tandem rehearse takes one spec file, but got extra arguments: ${extra.join(' ')}`);
    const spec = loadSpecFile(path);
    activity.command = 'rehearse';
    activity.specPath = path;
    const f = ctx.args.flags;
    const reportPath = f.report as string | undefined;
    if (reportPath !== undefined && !reportPath.trim())
      throw new UsageError('--report needs a file name, e.g. --report rehearsal.html');
    const log: string[] = [];
    const onEvent = progressPrinter(ctx, log);
    // A spec may ship the table it expects beside it (name.schema.sql): used unless a schema is given.
    const beside = f.schema === undefined && f['schema-from'] === undefined ? schemaBeside(path) : undefined;
    if (beside)
      onEvent({ kind: 'info', message: `no --schema given: using ${beside}, the table this spec ships with` });
    const run = rehearse(spec, {
      rows: f.rows as number | undefined,
      databaseUrl: f['database-url'] as string | undefined,
      lockTimeoutMs: f['lock-timeout'] as number | undefined,
      stepMs: f['step-ms'] as number | undefined,
      keep: Boolean(f.keep),
      schemaFile: (f.schema as string | undefined) ?? beside,
      schemaFrom: f['schema-from'] as string | undefined,
      sample: f.sample as number | undefined,
      breakChecks: f['break-checks'] as number | undefined,
      onEvent,
    });
    let report;
    try {
      report = await run;
    } catch (err) {
      // The report is written for every outcome: a rehearsal that stopped says why, first.
      ctx.out.endProgress();
      if (reportPath !== undefined) {
        fs.writeFileSync(reportPath, renderStoppedReport(spec.name, errorMessage(err), log));
        ctx.out.info(`report written to ${reportPath}`);
      }
      throw err;
    }
    ctx.out.endProgress();
    if (reportPath !== undefined) {
      fs.writeFileSync(reportPath, renderHtmlReport(report));
      ctx.out.info(`report written to ${reportPath}`);
    }
    const { timeline: _timeline, ...printed } = report;
    if (ctx.json) {
      const failure = { kind: 'rehearsal_failed' as const, message: `rehearsal FAILED: ${verdictText(report)}` };
      ctx.out.line(
        JSON.stringify(report.ok ? successOutcome(printed) : failureOutcome(failure, ExitCode.Failed, printed)),
      );
    } else printReport(ctx, report);
    return report.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};

function backfillText(e: ProgressEvent): string {
  const pct = e.total ? `${Math.floor((100 * (e.done ?? 0)) / e.total)}%` : '';
  const rows = e.total ? `${e.done ?? 0}/${e.total} rows` : `${e.done ?? 0} rows`;
  return `backfill${pct ? ' ' + pct : ''} (${rows}, ${Math.round(e.rowsPerSecond ?? 0)} rows/s)`;
}

/** Stage changes and checks as lines; traffic and backfill as one live progress line (stderr). */
function progressPrinter(ctx: CommandContext, log: string[]): (event: RehearsalEvent) => void {
  const { out } = ctx;
  let backfill = '';
  return (event) => {
    // What the report of a rehearsal that stops shows as "what happened until then".
    if (event.kind === 'stage' || event.kind === 'info')
      log.push(event.kind === 'stage' ? `stage ${event.message}` : event.message);
    // Where an interruption (Ctrl-C) stopped it: the last stage it reported.
    if (event.kind === 'stage') activity.last = `stage ${event.message}`;
    else if (event.kind === 'check')
      log.push(`checked ${event.checked} writes and reads ${event.label}: ${event.mismatches} lost or altered`);
    else if (event.kind === 'executor' && event.event.kind !== 'backfill') log.push(`executor: ${event.event.message}`);
    switch (event.kind) {
      case 'stage':
        backfill = '';
        out.info(`stage ${event.message}`);
        break;
      case 'traffic': {
        const s = event.stats;
        if (!Object.values(s.weights).some((w) => (w ?? 0) > 0)) break; // paused while the table is checked
        const failed = s.failedWrites + s.failedReads;
        const p99 = percentile(s.writeMs, 99).toFixed(1);
        const status = failed ? out.fail(`${failed} failed`) : out.ok('0 failed');
        out.progress(
          `  ${s.stage}: ${weightsLabel(s.weights)}, ${s.writes} writes, ${s.reads} reads, ${status}, p99 ${p99} ms${backfill ? '; ' + backfill : ''}`,
        );
        break;
      }
      case 'executor':
        if (event.event.kind === 'backfill') backfill = backfillText(event.event);
        else if (event.event.kind === 'lock_wait') out.info('  ' + out.warn(`lock wait: ${event.event.message}`));
        else out.info(out.dim(`  executor: ${event.event.message}`));
        break;
      case 'check': {
        const text = `checked ${event.checked} writes and reads ${event.label}: ${event.mismatches} lost or altered`;
        out.info('  ' + (event.mismatches ? out.fail(text) : out.ok(text)));
        break;
      }
      case 'info':
        out.info(out.dim(`  ${event.message}`));
        break;
    }
  };
}

/** The rehearsal's verdict in one sentence: failed, lost or altered writes, spec defects, time. */
function verdictText(r: RehearsalReport): string {
  const defects = r.spec_defects
    ? `, ${r.spec_defects} spec defects, ${r.lost_on_rollback?.count ?? 0} writes lost on rollback`
    : '';
  const findings = r.findings?.length
    ? `, ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'} about the spec or the app`
    : '';
  return `${r.failed_writes} failed writes, ${r.failed_reads} failed reads, ${r.lost_or_altered_writes} lost or altered writes of ${r.acknowledged_writes} acknowledged${defects}${findings} (${r.seconds} s)`;
}

function printReport(ctx: CommandContext, r: RehearsalReport): void {
  const { out } = ctx;
  out.line();
  for (const line of reportTable(r)) out.line(line);
  out.line();
  const l = r.lock_waits;
  out.line(`backfill: ${r.backfill.rows} rows in ${r.backfill.batches} batches, ${r.backfill_rows_per_s} rows/s`);
  out.line(
    `lock waits: longest app write ${l.max_write_ms} ms; ${l.writes_slower_than_lock_timeout} writes slower than the ${l.lock_timeout_ms} ms lock timeout; ${l.executor_lock_retries} executor lock retries`,
  );
  if (r.new_customer)
    out.line(
      `new customer ${r.new_customer.name} (written by v2) reads in v3 as first_name ${JSON.stringify(r.new_customer.first_name)}, last_name ${JSON.stringify(r.new_customer.last_name)}`,
    );
  out.line(`verify: ${r.verify.message}`);
  if (r.schema)
    out.line(
      `table ${r.schema.table} from ${r.schema.source === 'database' ? 'the given database' : r.schema.source === 'file' ? 'the --schema file' : r.schema.source === 'demo' ? "the demo (the talk's customers)" : 'the spec (inferred)'}${r.schema.tables.length ? ` with ${r.schema.tables.join(', ')}` : ''}; ${r.rows} ${r.schema.rows} rows; ${r.rejected_by_schema ?? 0} writes rejected by the schema itself (not failures)`,
    );
  for (const rt of r.round_trip ?? []) {
    out.line(
      `${rt.operation}: up and down on ${rt.realistic_values} realistic rows: ${rt.defects} defects; ${rt.variations} variations of the new side: ${rt.rollback_risks} rollback risks`,
    );
    for (const e of rt.defect_examples) out.line(out.fail(`spec defect: ${e}`));
    for (const e of rt.risk_examples.slice(0, 3)) out.line(out.warn(`rollback risk (not a failure): ${e}`));
  }
  for (const l of r.lost_on_rollback?.samples ?? []) {
    out.line(
      out.fail(
        `lost on rollback: ${l.version} ${l.stage} write to row ${l.id} wrote ${shortJson(l.wrote)}, a walk back gives ${shortJson(l.rollback_gives)}`,
      ),
    );
  }
  if (r.old_writes_breaking_spec !== undefined)
    out.line(`--break-checks: v1 wrote ${r.old_writes_breaking_spec} rows that break the CHECKs the spec adds`);
  for (const f of r.findings ?? []) out.line(out.fail(`finding (the spec or the app, not Tandem): ${f}`));
  for (const f of r.failure_samples)
    out.line(
      out.fail(`failed write: ${f.version} ${f.op}${f.id ? ' of ' + f.id : ''} during ${f.stage}: ${f.message}`),
    );
  const row = r.schema ? 'row' : 'customer';
  for (const m of r.mismatch_samples) {
    out.line(
      out.fail(
        `lost or altered: ${m.version} ${m.stage} write to ${row} ${m.id}, seen by ${m.seenBy}: expected ${shortJson(m.expected)}, got ${shortJson(m.actual)}`,
      ),
    );
  }
  const verdict = verdictText(r);
  out.line(r.ok ? out.ok(`zero downtime: ${verdict}`) : out.fail(`rehearsal FAILED: ${verdict}`));
}
