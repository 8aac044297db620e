/**
 * `anchorlog alerts list|show|ack|resolve|reopen|report`: alert review
 * (docs/detection.md "Reviewing alerts").
 *
 * Everything but `report --bundle` talks to the admin API (`--api`/`--key`,
 * else ANCHORLOG_API_URL / ANCHORLOG_API_KEY), with a key holding
 * `alerts:review` (or `admin`):
 *   GET  /v1/admin/alerts?status&rule&severity&log&from&to&limit&cursor → { alerts, cursor? }
 *   GET  /v1/admin/alerts/{id}                        → { alert, review, recorded?, pending?, fired }
 *   POST /v1/admin/alerts/{id}/ack|resolve|reopen     → { alert, review, recorded, eventId }
 *   GET  /v1/admin/alerts/report?from&to&until        → AlertReport
 *
 * `report --bundle FILE` is offline and trusts nothing but the bundle and
 * TRUST.json: it verifies the bundle (as `anchorlog verify`) and refuses one
 * that fails, that was not verified against pinned trust (exit 3 unless
 * --allow-untrusted), whose completeness is not proved or whose range does
 * not cover [--from, --to) (exit 4) — printing no report then — and only
 * then runs the same pure report function as the API over its records.
 */
import { writeFile } from 'node:fs/promises';
import { BundleError, type BundleReport, type BundleTrust, verifyBundle } from '../core/bundle/index.ts';
import { bundleRecords } from '../core/bundle/records.ts';
import {
  type AlertReport,
  alertReportCsv,
  alertReportJson,
  buildAlertReport,
} from '../core/detect/report.ts';
import { ALERT_OUTCOMES, ALERT_STATUSES } from '../core/detect/review.ts';
import { SEVERITIES } from '../core/detect/rule.ts';
import type { LogRecord } from '../core/record.ts';
import { formatReceivedAt } from '../core/record.ts';
import { type Args, type CommandSpec, defineCommand, flag, type OptionSpecs, option } from './args.ts';
import { type FailureView, runCommand } from './command.ts';
import type { Command } from './dispatch.ts';
import { CheckError, UsageError } from './errors.ts';
import { type CliEnv, type CliIo, EXIT_INCOMPLETE, EXIT_OK, EXIT_UNTRUSTED, readInput } from './io.ts';
import { printable, printableJson } from './printable.ts';
import { parseTrustFile } from './trust-file.ts';
import {
  adminApiKey,
  alertId,
  choice,
  httpUrl,
  inputFile,
  logId,
  outputFile,
  ruleId,
  text,
  timeBound,
  wholeNumberIn,
} from './values.ts';

export interface AlertsDeps {
  readonly env?: CliEnv;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

const API_URL = option(httpUrl, 'admin API base URL', { env: 'ANCHORLOG_API_URL' });
const API_KEY = option(adminApiKey, 'API key of a principal with alerts:review (or admin)', {
  env: 'ANCHORLOG_API_KEY',
  secret: true,
});
const ADMIN_API = {
  api: { ...API_URL, required: true as const },
  key: { ...API_KEY, required: true as const },
};

const ID = { name: 'ID', type: alertId, description: 'the alert id (alr_…)' };
const API_EXIT = 'exit status: 0 ok, 1 the API refused or could not be reached, 2 usage error';
const BASE = '/v1/admin/alerts';

// ---------------------------------------------------------------------------
// Declarations

const LIST = defineCommand({
  path: ['alerts', 'list'],
  summary: 'list alerts, filtered by status, rule, severity, log and time',
  description:
    'Lists the alerts you may review, in id order, a page at a time: status, severity, rule,\nwhen it fired, and who acknowledged or resolved it. --from/--to filter the time it fired.',
  options: {
    status: option(
      choice(ALERT_STATUSES, 'STATUS'),
      `only alerts in this status (${ALERT_STATUSES.join(', ')})`,
    ),
    rule: option(ruleId, 'only alerts of this rule'),
    severity: option(choice(SEVERITIES, 'SEVERITY'), `only this severity (${SEVERITIES.join(', ')})`),
    log: option(logId, 'only alerts of this log'),
    from: option(timeBound, 'fired at or after (RFC 3339 or YYYY-MM-DD)'),
    to: option(timeBound, 'fired before'),
    limit: option(wholeNumberIn(1, 100), 'at most N per page (1 to 100)'),
    cursor: option(text('CURSOR'), 'the next page, as the previous one printed it'),
    ...ADMIN_API,
  },
  json: "the API's response: { alerts: [{ alert, review, recorded?, pending? }], cursor? }",
  examples: [
    { title: 'what still needs a look', command: 'anchorlog alerts list --status open' },
    {
      title: 'high-severity alerts of March',
      command: 'anchorlog alerts list --severity high --from 2026-03-01 --to 2026-04-01 --json',
    },
  ],
  exitStatus: API_EXIT,
});

const SHOW = defineCommand({
  path: ['alerts', 'show'],
  summary: 'show one alert, its system-log record and checkpoint citation',
  description:
    'Shows an alert: its review state, where the system log records it (alert.fire) and the\nlatest transition, the whole alert document and the signed checkpoint it cites.',
  argument: ID,
  options: { ...ADMIN_API },
  json: "the API's response: { alert, review, recorded?, pending?, fired: { recorded, event, checkpoint } }",
  examples: [{ title: 'one alert', command: 'anchorlog alerts show alr_0123456789abcdef0123456789abcdef' }],
  exitStatus: API_EXIT,
});

const ACK = defineCommand({
  path: ['alerts', 'ack'],
  summary: 'acknowledge an open alert (recorded as alert.ack)',
  description:
    'Acknowledges an open alert as the principal of the key. The acknowledgement is recorded in\nthe system log before this returns; an alert that is not open is refused (INVALID_TRANSITION).',
  argument: ID,
  options: { ...ADMIN_API },
  json: "the API's response: { alert, review, recorded, eventId }",
  examples: [
    { title: 'take an alert', command: 'anchorlog alerts ack alr_0123456789abcdef0123456789abcdef' },
  ],
  exitStatus: API_EXIT,
});

const RESOLVE = defineCommand({
  path: ['alerts', 'resolve'],
  summary: 'resolve an alert with an outcome (recorded as alert.resolve)',
  description:
    'Resolves an open or acknowledged alert as the principal of the key, with an outcome and\noptional notes (at most 4,000 characters), recorded in the system log before this returns.',
  argument: ID,
  options: {
    outcome: option(choice(ALERT_OUTCOMES, 'OUTCOME'), `${ALERT_OUTCOMES.join(', ')}`, { required: true }),
    notes: option(text('TEXT'), 'what was found and done (a ticket, a change id)'),
    ...ADMIN_API,
  },
  json: "the API's response: { alert, review, recorded, eventId }",
  examples: [
    {
      title: 'a batch job, not an attack',
      command:
        'anchorlog alerts resolve alr_0123456789abcdef0123456789abcdef --outcome false_positive --notes "nightly export, CHG-42"',
    },
  ],
  exitStatus: API_EXIT,
});

const REOPEN = defineCommand({
  path: ['alerts', 'reopen'],
  summary: 're-open a resolved alert (recorded as alert.reopen)',
  description:
    'Re-opens a resolved alert whose resolution turned out wrong. History is not edited: the\nnext resolution is recorded as a new event.',
  argument: ID,
  options: { notes: option(text('TEXT'), 'why'), ...ADMIN_API },
  json: "the API's response: { alert, review, recorded, eventId }",
  examples: [
    {
      title: 'it was real after all',
      command: 'anchorlog alerts reopen alr_0123456789abcdef0123456789abcdef --notes "see INC-7"',
    },
  ],
  exitStatus: API_EXIT,
});

const REPORT = defineCommand({
  path: ['alerts', 'report'],
  summary: 'every alert of a period with its review, from a verified bundle or the API',
  description: `Every alert recorded in [--from, --to) with rule, severity, fired at, acknowledged and
resolved by and at, outcome, time to acknowledge and to resolve; unreviewed ones (no resolution
in effect) flagged. With --bundle, offline from an export of the system log: the bundle is
verified first (as anchorlog verify) and refused unless it verifies against --trust, its range
is proved complete and covers [--from, --to) (default: the bundle's range). Without it, from the
admin API (reviews counted until --until, default now). Both run the same report function.`,
  options: {
    from: option(timeBound, 'first instant of the period (RFC 3339 or YYYY-MM-DD); default the bundle range'),
    to: option(timeBound, 'end of the period (exclusive)'),
    until: option(timeBound, 'API only: count reviews recorded before this (default now)'),
    bundle: option(inputFile('FILE'), 'an export of the system log (anchorlog export --log system)'),
    trust: option(inputFile('TRUST.json'), 'pinned trust for --bundle (anchorlog trust builds one)'),
    'allow-untrusted': flag('accept a bundle verified against keys and roots taken from itself'),
    format: option(choice(['csv', 'json'] as const, 'FORMAT'), 'csv or json (default json)'),
    out: option(outputFile('FILE'), 'write the report here instead of standard output', { short: 'o' }),
    api: API_URL,
    key: API_KEY,
  },
  json: 'same as --format json',
  examples: [
    {
      title: 'the auditor: from an export verified against pinned trust',
      command:
        'anchorlog alerts report --bundle system-q1.tar --trust TRUST.json --from 2026-01-01 --to 2026-04-01 --format csv --out alerts-q1.csv',
    },
    {
      title: 'the same from the API, reviews counted until a week later',
      command: 'anchorlog alerts report --from 2026-01-01 --to 2026-04-01 --until 2026-04-08 --format csv',
    },
  ],
  exitStatus:
    'exit status: 0 the report; 1 the bundle failed verification or the API refused; 2 usage error;\n3 the bundle was not verified against pinned trust; 4 its completeness is not proved or its range\ndoes not cover the period (no report in 1, 3 and 4)',
});

// ---------------------------------------------------------------------------
// The admin API

export interface Api {
  call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Record<string, unknown>>;
}

export function adminApi(base: string, key: string, doFetch: typeof fetch): Api {
  return {
    async call(method, path, body) {
      const url = new URL(path.replace(/^\//, ''), `${base}/`);
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        throw new CheckError('UNAVAILABLE', `cannot reach ${url.origin}: ${(err as Error).message}`);
      }
      const raw = await res.text();
      let parsed: unknown;
      try {
        parsed = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      if (!res.ok) {
        const e = (parsed as { error?: Record<string, unknown> } | undefined)?.error;
        const code =
          typeof e?.reason === 'string'
            ? e.reason
            : typeof e?.code === 'string'
              ? e.code
              : `HTTP_${res.status}`;
        const message = typeof e?.message === 'string' ? e.message : res.statusText || 'request failed';
        throw new CheckError(code, message);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new CheckError('INVALID_RESPONSE', `the API answered HTTP ${res.status} without a JSON object`);
      return parsed as Record<string, unknown>;
    },
  };
}

const query = (q: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) s.set(k, String(v));
  const t = s.toString();
  return t ? `?${t}` : '';
};

type ApiArgs = { readonly api: string; readonly key: string; readonly json: boolean };

interface View {
  alert: { id: string; logId: string; ruleId: string; severity: string; firedAt: string; title: string };
  review: {
    status: string;
    rev: number;
    acknowledged: { by: string; at: string } | null;
    resolved: { by: string; at: string; outcome: string; notes: string } | null;
  };
  recorded?: { seq: number; index: number };
  pending?: { rev: number; action: string };
  eventId?: string;
}

const p = (v: unknown) => printable(String(v ?? ''));

function viewLine(v: View): string {
  const who = v.review.resolved
    ? `${v.review.resolved.outcome} by ${v.review.resolved.by}`
    : v.review.acknowledged
      ? `acked by ${v.review.acknowledged.by}`
      : '-';
  return [
    v.alert.id,
    v.review.status + (v.pending ? '*' : ''),
    v.alert.severity,
    v.alert.logId,
    v.alert.ruleId,
    v.alert.firedAt,
    who,
  ]
    .map(p)
    .join('\t');
}

// ---------------------------------------------------------------------------
// Bodies

async function runList(
  a: ApiArgs & {
    status: string | undefined;
    rule: string | undefined;
    severity: string | undefined;
    log: string | undefined;
    from: string | undefined;
    to: string | undefined;
    limit: number | undefined;
    cursor: string | undefined;
  },
  io: CliIo,
  api: Api,
) {
  const body = await api.call(
    'GET',
    `${BASE}${query({ status: a.status, rule: a.rule, severity: a.severity, log: a.log, from: a.from, to: a.to, limit: a.limit, cursor: a.cursor })}`,
  );
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const rows = (Array.isArray(body.alerts) ? body.alerts : []) as View[];
    const more = typeof body.cursor === 'string' ? `more: --cursor ${printable(body.cursor)}\n` : '';
    io.stdout(
      `${['ID\tSTATUS\tSEVERITY\tLOG\tRULE\tFIRED AT\tREVIEW', ...rows.map(viewLine)].join('\n')}\n${more}`,
    );
  }
  return EXIT_OK;
}

async function runShow(a: ApiArgs & { argument: string }, io: CliIo, api: Api) {
  const body = await api.call('GET', `${BASE}/${a.argument}`);
  if (a.json) {
    io.stdout(printableJson(body, 2));
    return EXIT_OK;
  }
  const v = body as unknown as View & {
    fired: {
      recorded: { seq: number; index: number };
      event: { metadata?: { alert?: unknown } };
      checkpoint: unknown;
    } | null;
  };
  const lines = [
    `# ${p(v.alert.id)}: ${p(v.review.status)}${v.pending ? ` (r${p(v.pending.rev)} ${p(v.pending.action)} being recorded)` : ''}`,
    `# rule ${p(v.alert.ruleId)}, severity ${p(v.alert.severity)}, log ${p(v.alert.logId)}, fired at ${p(v.alert.firedAt)}`,
    v.review.acknowledged
      ? `# acknowledged by ${p(v.review.acknowledged.by)} at ${p(v.review.acknowledged.at)}`
      : '',
    v.review.resolved
      ? `# resolved ${p(v.review.resolved.outcome)} by ${p(v.review.resolved.by)} at ${p(v.review.resolved.at)}: ${p(v.review.resolved.notes)}`
      : '',
    v.recorded
      ? `# last transition: system log event ${p(v.alert.id)}/r${p(v.review.rev)} (batch ${p(v.recorded.seq)}, index ${p(v.recorded.index)})`
      : '',
    v.fired
      ? `# alert.fire: system log batch ${p(v.fired.recorded.seq)}, index ${p(v.fired.recorded.index)}`
      : '# alert.fire: not found in the system log',
  ].filter(Boolean);
  io.stdout(
    `${lines.join('\n')}\n` +
      printableJson(
        { alert: v.fired?.event.metadata?.alert ?? v.alert, checkpoint: v.fired?.checkpoint ?? null },
        2,
      ),
  );
  return EXIT_OK;
}

function transition(verb: 'ack' | 'resolve' | 'reopen') {
  return async (
    a: ApiArgs & { argument: string; outcome?: string | undefined; notes?: string | undefined },
    io: CliIo,
    api: Api,
  ) => {
    const body = await api.call(
      'POST',
      `${BASE}/${a.argument}/${verb}`,
      verb === 'ack'
        ? undefined
        : {
            ...(a.outcome !== undefined ? { outcome: a.outcome } : {}),
            ...(a.notes !== undefined ? { notes: a.notes } : {}),
          },
    );
    if (a.json) io.stdout(printableJson(body, 2));
    else {
      const v = body as unknown as View;
      io.stdout(`${p(v.alert?.id)} is ${p(v.review?.status)}; recorded as ${p(v.eventId)}\n`);
    }
    return EXIT_OK;
  };
}

async function emit(report: AlertReport, format: 'csv' | 'json', out: string | undefined, io: CliIo) {
  const text = format === 'csv' ? alertReportCsv(report) : alertReportJson(report);
  if (out !== undefined) {
    await writeFile(out, text);
    const t = report.totals;
    io.stderr(`wrote ${out}: ${t.alerts} alert(s), ${t.unreviewed} unreviewed\n`);
  }
  // Notes and titles are user input: escape what a terminal would act on, keep the layout.
  else
    io.stdout(
      format === 'csv'
        ? text
            .split('\r\n')
            .map((l) => l.split('\n').map(printable).join('\n'))
            .join('\r\n')
        : printableJson(report, 2),
    );
}

export type ReportArgs = {
  from: string | undefined;
  to: string | undefined;
  until: string | undefined;
  bundle: string | undefined;
  trust: string | undefined;
  'allow-untrusted': boolean;
  format: 'csv' | 'json' | undefined;
  out: string | undefined;
  api: string | undefined;
  key: string | undefined;
  json: boolean;
};

/** RFC 3339 or a date, as receivedAt text (ms, Z). */
function instant(flagName: string, t: string): string {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t);
  if (!Number.isFinite(ms)) throw new UsageError('BAD_VALUE', `${flagName}: not a time: ${t}`);
  return formatReceivedAt(ms);
}

/** The bundle's verified records and what the verifier proved; refusals are exit 1, 3 or 4 (thrown or returned). */
export async function verifiedRecords(
  a: ReportArgs,
  io: CliIo,
): Promise<{ report: BundleReport; records: LogRecord[] } | { exit: number; code: string; message: string }> {
  const file = a.trust ? parseTrustFile(await readInput(io, '--trust', a.trust), a.trust) : {};
  const trust: BundleTrust = {
    ...(file.logKeys ? { logKeys: file.logKeys } : {}),
    ...(file.origins ? { origins: file.origins } : {}),
    ...(file.tsaRoots ? { tsaRoots: file.tsaRoots } : {}),
    ...(file.tsaQuorum !== undefined ? { tsaQuorum: file.tsaQuorum } : {}),
  };
  const bytes = await readInput(io, '--bundle', a.bundle as string);
  let report: BundleReport;
  try {
    report = await verifyBundle(bytes, trust);
  } catch (e) {
    if (e instanceof BundleError && e.code === 'INVALID_TRUST')
      throw new UsageError('BAD_FILE', `--trust: ${e.message}`);
    throw e; // a failed verification: exit 1 with its code
  }
  if ((report.trustedBundleKeys || report.trustedBundleTsaRoots) && !a['allow-untrusted'])
    return {
      exit: EXIT_UNTRUSTED,
      code: 'UNTRUSTED_BUNDLE',
      message:
        'the bundle verified only against keys or TSA roots taken from itself; pin them with --trust TRUST.json (or accept with --allow-untrusted)',
    };
  if (report.logId !== 'system')
    return {
      exit: EXIT_INCOMPLETE,
      code: 'NOT_SYSTEM_LOG',
      message: `the bundle is of log ${report.logId}, not system`,
    };
  if (report.mode !== 'range' || !report.completeness.proved)
    return {
      exit: EXIT_INCOMPLETE,
      code: 'COMPLETENESS_NOT_PROVED',
      message:
        report.mode !== 'range'
          ? 'a filtered export proves each record, not that none is missing: export the whole system log range'
          : `the range ends at checkpoint ${report.checkpoint.size}: records before ${report.range.toTime} may be missing; export again after the next seal`,
    };
  const from = a.from !== undefined ? instant('--from', a.from) : report.range.fromTime;
  const to = a.to !== undefined ? instant('--to', a.to) : report.range.toTime;
  if (from < report.range.fromTime || to > report.range.toTime)
    return {
      exit: EXIT_INCOMPLETE,
      code: 'RANGE_NOT_COVERED',
      message: `the bundle proves [${report.range.fromTime}, ${report.range.toTime}), which does not cover [${from}, ${to})`,
    };
  const records: LogRecord[] = [];
  for await (const r of bundleRecords(bytes)) records.push(r);
  return { report, records };
}

async function runReport(a: ReportArgs, io: CliIo, doFetch: typeof fetch): Promise<number> {
  const format = a.format ?? 'json';
  if (a.bundle !== undefined) {
    if (a.until !== undefined)
      throw new UsageError(
        'CONFLICTING_OPTIONS',
        '--until is for the API; a bundle ends where its range does',
      );
    const got = await verifiedRecords(a, io);
    if ('exit' in got) {
      io.stderr(`anchorlog alerts report: ${got.code}: ${printable(got.message)}; no report written\n`);
      if (a.json) io.stdout(printableJson({ ok: false, error: { code: got.code, message: got.message } }, 2));
      return got.exit;
    }
    const from = a.from !== undefined ? instant('--from', a.from) : got.report.range.fromTime;
    const to = a.to !== undefined ? instant('--to', a.to) : got.report.range.toTime;
    if (!(from < to)) throw new UsageError('BAD_VALUE', '--to must be after --from');
    const report = buildAlertReport(got.records, { from, to });
    io.stderr(
      `bundle verified: system log [${got.report.range.fromTime}, ${got.report.range.toTime}), ${got.report.records.count} record(s), complete; reviews as of ${report.asOf ?? '-'}\n`,
    );
    await emit(report, a.json ? 'json' : format, a.out, io);
    return EXIT_OK;
  }
  if (a.api === undefined || a.key === undefined)
    throw new UsageError(
      'MISSING_OPTION',
      'give --bundle FILE, or --api and --key (or ANCHORLOG_API_URL / ANCHORLOG_API_KEY)',
    );
  if (a.from === undefined || a.to === undefined)
    throw new UsageError('MISSING_OPTION', '--from and --to are required with the API');
  const body = await adminApi(a.api, a.key, doFetch).call(
    'GET',
    `${BASE}/report${query({ from: a.from, to: a.to, until: a.until })}`,
  );
  if (body.format !== 'anchorlog.alert-report/v1')
    throw new CheckError('INVALID_RESPONSE', 'the API did not answer with an alert report');
  await emit(body as unknown as AlertReport, a.json ? 'json' : format, a.out, io);
  return EXIT_OK;
}

// ---------------------------------------------------------------------------
// Dispatcher entries

const FAILURE: FailureView = { label: 'error' };

/**
 * A dispatcher entry for a command that calls the admin API: parses, then
 * hands `body` an Api for `--api`/`--key`. Shared by the alert and access
 * review commands (src/cli/access-reviews.ts), whose deps are the same shape.
 */
export function apiCommand<O extends OptionSpecs, A>(
  spec: CommandSpec<O, A>,
  deps: () => AlertsDeps,
  body: (args: Args<O, A>, io: CliIo, api: Api) => Promise<number>,
): Command {
  const run = (argv: readonly string[], io: CliIo) =>
    runCommand(
      spec,
      argv,
      io,
      deps().env ?? {},
      (args) => {
        const base = args as Args<O, A> & ApiArgs;
        return body(args, io, adminApi(base.api, base.key, deps().fetch ?? fetch));
      },
      FAILURE,
    );
  return { path: spec.path, summary: spec.summary, run };
}

export function alertsCommands(deps: () => AlertsDeps): Command[] {
  return [
    apiCommand(LIST, deps, runList),
    apiCommand(SHOW, deps, runShow),
    apiCommand(ACK, deps, transition('ack')),
    apiCommand(RESOLVE, deps, transition('resolve')),
    apiCommand(REOPEN, deps, transition('reopen')),
    {
      path: REPORT.path,
      summary: REPORT.summary,
      run: (argv, io) =>
        runCommand(
          REPORT,
          argv,
          io,
          deps().env ?? {},
          (a) => runReport(a as unknown as ReportArgs, io, deps().fetch ?? fetch),
          FAILURE,
        ),
    },
  ];
}
