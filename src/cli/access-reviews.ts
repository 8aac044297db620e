/**
 * `anchorlog access-reviews start|list|show|decide|close|report`: access
 * reviews (docs/access.md "Access reviews"; SOC 2 CC6.2, CC6.3).
 *
 * Everything but `report --bundle` talks to the admin API (`--api`/`--key`,
 * else ANCHORLOG_API_URL / ANCHORLOG_API_KEY), with a key holding
 * `access:review` on `*` (or a global `admin`):
 *   POST /v1/admin/access-reviews { name }                 → { review, eventId }
 *   GET  /v1/admin/access-reviews?limit&cursor             → { reviews, cursor? }
 *   GET  /v1/admin/access-reviews/{id}                     → { review, decisions }
 *   POST /v1/admin/access-reviews/{id}/decisions { principalId, decision, reason } → { decision, eventId }
 *   POST /v1/admin/access-reviews/{id}/close               → { review, eventId }
 *   GET  /v1/admin/access-reviews/{id}/report              → AccessReviewReport
 *
 * `report --bundle FILE` is offline and trusts nothing but the bundle and
 * TRUST.json, exactly as `alerts report --bundle` (src/cli/alerts.ts
 * verifiedRecords): it refuses a bundle that fails verification, was not
 * verified against pinned trust (exit 3), is not of the complete `system`
 * log range, or does not hold the review's start (exit 4) — printing no
 * report then — and only then runs the same pure report function as the API.
 * The JSON the two print is byte-identical for the same records.
 */
import { writeFile } from 'node:fs/promises';
import {
  type AccessReviewReport,
  accessReviewCsv,
  accessReviewJson,
  accessReviewReport,
  REVIEW_DECISIONS,
} from '../core/access-review.ts';
import {
  type AlertsDeps,
  type Api,
  adminApi,
  apiCommand,
  type ReportArgs,
  verifiedRecords,
} from './alerts.ts';
import { defineCommand, flag, option } from './args.ts';
import { type FailureView, runCommand } from './command.ts';
import type { Command } from './dispatch.ts';
import { CheckError, UsageError } from './errors.ts';
import { type CliIo, EXIT_INCOMPLETE, EXIT_OK } from './io.ts';
import { printable, printableJson } from './printable.ts';
import {
  accessReviewId,
  adminApiKey,
  choice,
  httpUrl,
  inputFile,
  outputFile,
  principalId,
  text,
  wholeNumberIn,
} from './values.ts';

/** The same injection points as the alert commands (whose apiCommand these reuse). */
export type AccessReviewsDeps = AlertsDeps;

const API_URL = option(httpUrl, 'admin API base URL', { env: 'ANCHORLOG_API_URL' });
const API_KEY = option(adminApiKey, 'API key of a principal with access:review on * (or admin)', {
  env: 'ANCHORLOG_API_KEY',
  secret: true,
});
const ADMIN_API = {
  api: { ...API_URL, required: true as const },
  key: { ...API_KEY, required: true as const },
};

const ID = { name: 'ID', type: accessReviewId, description: 'the review id (arv_…)' };
const API_EXIT = 'exit status: 0 ok, 1 the API refused or could not be reached, 2 usage error';
const BASE = '/v1/admin/access-reviews';

// ---------------------------------------------------------------------------
// Declarations

const START = defineCommand({
  path: ['access-reviews', 'start'],
  summary: 'start an access review: snapshot every principal into the system log',
  description:
    'Snapshots every principal — kind, owner, roles, effective scopes, key age and expiry, last use,\nflags (admin, unused_90d, no_owner, owner_not_active_human, direct_scopes, expiring_14d) — into\nthe system log, and opens a review of it.',
  options: { name: option(text('NAME'), 'the review, e.g. 2026-Q1', { required: true }), ...ADMIN_API },
  json: "the API's response: { review, eventId }",
  examples: [{ title: 'the quarterly review', command: 'anchorlog access-reviews start --name 2026-Q1' }],
  exitStatus: API_EXIT,
});

const LIST = defineCommand({
  path: ['access-reviews', 'list'],
  summary: 'list access reviews',
  description: 'Lists reviews in id order, a page at a time: status, name, when and by whom started.',
  options: {
    limit: option(wholeNumberIn(1, 100), 'at most N per page (1 to 100)'),
    cursor: option(text('CURSOR'), 'the next page, as the previous one printed it'),
    ...ADMIN_API,
  },
  json: "the API's response: { reviews, cursor? }",
  examples: [{ title: 'every review', command: 'anchorlog access-reviews list' }],
  exitStatus: API_EXIT,
});

const SHOW = defineCommand({
  path: ['access-reviews', 'show'],
  summary: 'show a review and the decisions recorded so far',
  description: 'Shows a review and its decisions (the working set; `report` is the evidence).',
  argument: ID,
  options: { ...ADMIN_API },
  json: "the API's response: { review, decisions }",
  examples: [{ title: 'one review', command: 'anchorlog access-reviews show arv_0123456789abcdef01234567' }],
  exitStatus: API_EXIT,
});

const DECIDE = defineCommand({
  path: ['access-reviews', 'decide'],
  summary: 'record keep / revoke / change on one principal (revoke takes effect at once)',
  description:
    'Records a decision on one principal of the snapshot, with a reason, as the principal of the key\n(access_review.decide in the system log). revoke revokes the principal before this returns: its\nkey answers 401 from then on. change records that its access must change (do it with\nanchorlog principals update or roles). One decision per principal per review.',
  argument: ID,
  options: {
    principal: option(principalId, 'the principal decided on', { required: true }),
    decision: option(choice(REVIEW_DECISIONS, 'DECISION'), REVIEW_DECISIONS.join(', '), { required: true }),
    reason: option(text('TEXT'), 'why (at most 1,000 characters)', { required: true }),
    ...ADMIN_API,
  },
  json: "the API's response: { decision, eventId }",
  examples: [
    {
      title: 'someone who left',
      command:
        'anchorlog access-reviews decide arv_0123456789abcdef01234567 --principal alice --decision revoke --reason "left 2026-02-14, HR-311"',
    },
  ],
  exitStatus: API_EXIT,
});

const CLOSE = defineCommand({
  path: ['access-reviews', 'close'],
  summary: 'close a review (nothing can be decided afterwards)',
  description:
    'Closes a review: recorded as access_review.close after every decision. Items left undecided\nare listed as such in the report.',
  argument: ID,
  options: { ...ADMIN_API },
  json: "the API's response: { review, eventId }",
  examples: [{ title: 'done', command: 'anchorlog access-reviews close arv_0123456789abcdef01234567' }],
  exitStatus: API_EXIT,
});

const REPORT = defineCommand({
  path: ['access-reviews', 'report'],
  summary: 'the review report (CSV or JSON), from the API or a verified system-log bundle',
  description: `Every principal of the snapshot with its flags and the decision in effect (reviewer and time
as the system log records them), every item left undecided, and any problem found in the
records. With --bundle, offline from an export of the system log: the bundle is verified first
(as anchorlog verify) and refused unless it verifies against --trust, its range is proved
complete and it holds the review's start. Without it, from the admin API. Both run the same
report function over the same records: the JSON is byte-identical.`,
  argument: ID,
  options: {
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
        'anchorlog access-reviews report arv_0123456789abcdef01234567 --bundle system-q1.tar --trust TRUST.json --format csv --out access-q1.csv',
    },
    {
      title: 'the same from the API',
      command: 'anchorlog access-reviews report arv_0123456789abcdef01234567 --format csv',
    },
  ],
  exitStatus:
    'exit status: 0 the report; 1 the bundle failed verification or the API refused; 2 usage error;\n3 the bundle was not verified against pinned trust; 4 its completeness is not proved or it does\nnot hold the review (no report in 1, 3 and 4)',
});

// ---------------------------------------------------------------------------
// Bodies

type ApiArgs = { readonly api: string; readonly key: string; readonly json: boolean };

const p = (v: unknown) => printable(String(v ?? ''));

interface ReviewView {
  id: string;
  status: string;
  name: string;
  startedAt: string;
  startedBy: string;
  items: number;
  closedAt?: string;
}

function reviewLine(v: ReviewView): string {
  return [v.id, v.status, v.name, v.items, v.startedAt, v.startedBy, v.closedAt ?? '-'].map(p).join('\t');
}

const HEADER = 'ID\tSTATUS\tNAME\tITEMS\tSTARTED AT\tSTARTED BY\tCLOSED AT';

async function runStart(a: ApiArgs & { name: string }, io: CliIo, api: Api) {
  const body = await api.call('POST', BASE, { name: a.name });
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const v = body.review as ReviewView;
    io.stdout(`${p(v.id)} ${p(v.name)} is ${p(v.status)}: ${p(v.items)} principal(s) snapshotted\n`);
  }
  return EXIT_OK;
}

async function runList(
  a: ApiArgs & { limit: number | undefined; cursor: string | undefined },
  io: CliIo,
  api: Api,
) {
  const q = new URLSearchParams();
  if (a.limit !== undefined) q.set('limit', String(a.limit));
  if (a.cursor !== undefined) q.set('cursor', a.cursor);
  const body = await api.call('GET', `${BASE}${q.size ? `?${q}` : ''}`);
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const rows = (Array.isArray(body.reviews) ? body.reviews : []) as ReviewView[];
    const more = typeof body.cursor === 'string' ? `more: --cursor ${printable(body.cursor)}\n` : '';
    io.stdout(`${[HEADER, ...rows.map(reviewLine)].join('\n')}\n${more}`);
  }
  return EXIT_OK;
}

async function runShow(a: ApiArgs & { argument: string }, io: CliIo, api: Api) {
  const body = await api.call('GET', `${BASE}/${a.argument}`);
  if (a.json) io.stdout(printableJson(body, 2));
  else {
    const decisions = (Array.isArray(body.decisions) ? body.decisions : []) as Record<string, unknown>[];
    io.stdout(
      `${[
        HEADER,
        reviewLine(body.review as ReviewView),
        '',
        'PRINCIPAL\tDECISION\tBY\tAT\tREASON',
        ...decisions.map((d) =>
          [d.principalId, `${String(d.decision)}${d.pending ? '*' : ''}`, d.by, d.at, d.reason]
            .map(p)
            .join('\t'),
        ),
      ].join('\n')}\n`,
    );
  }
  return EXIT_OK;
}

async function runDecide(
  a: ApiArgs & { argument: string; principal: string; decision: string; reason: string },
  io: CliIo,
  api: Api,
) {
  const body = await api.call('POST', `${BASE}/${a.argument}/decisions`, {
    principalId: a.principal,
    decision: a.decision,
    reason: a.reason,
  });
  if (a.json) io.stdout(printableJson(body, 2));
  else io.stdout(`${p(a.principal)}: ${p(a.decision)}; recorded as ${p(body.eventId)}\n`);
  return EXIT_OK;
}

async function runClose(a: ApiArgs & { argument: string }, io: CliIo, api: Api) {
  const body = await api.call('POST', `${BASE}/${a.argument}/close`);
  if (a.json) io.stdout(printableJson(body, 2));
  else io.stdout(`${p(a.argument)} is closed; recorded as ${p(body.eventId)}\n`);
  return EXIT_OK;
}

async function emit(report: AccessReviewReport, format: 'csv' | 'json', out: string | undefined, io: CliIo) {
  const body = format === 'csv' ? accessReviewCsv(report) : accessReviewJson(report);
  if (out !== undefined) {
    await writeFile(out, body);
    io.stderr(`wrote ${out}: ${report.items.length} item(s), ${report.undecided.length} undecided\n`);
  }
  // Names and reasons are user input: escape what a terminal would act on, keep the layout.
  else
    io.stdout(
      format === 'csv'
        ? body
            .split('\r\n')
            .map((l) => l.split('\n').map(printable).join('\n'))
            .join('\r\n')
        : printableJson(report, 2),
    );
}

type AccessReportArgs = Omit<ReportArgs, 'from' | 'to' | 'until'> & { argument: string };

async function runReport(a: AccessReportArgs, io: CliIo, doFetch: typeof fetch): Promise<number> {
  const format = a.json ? 'json' : (a.format ?? 'json');
  if (a.bundle !== undefined) {
    const got = await verifiedRecords({ ...a, from: undefined, to: undefined, until: undefined }, io);
    const refuse = (code: string, message: string, exit: number) => {
      io.stderr(`anchorlog access-reviews report: ${code}: ${printable(message)}; no report written\n`);
      if (a.json) io.stdout(printableJson({ ok: false, error: { code, message } }, 2));
      return exit;
    };
    if ('exit' in got) return refuse(got.code, got.message, got.exit);
    const report = accessReviewReport(a.argument, got.records);
    if (report.startedAt === null)
      return refuse(
        'REVIEW_NOT_IN_BUNDLE',
        `the bundle [${got.report.range.fromTime}, ${got.report.range.toTime}) does not hold the start of ${a.argument}; export a range that does`,
        EXIT_INCOMPLETE,
      );
    io.stderr(
      `bundle verified: system log [${got.report.range.fromTime}, ${got.report.range.toTime}), ${got.report.records.count} record(s), complete\n`,
    );
    await emit(report, format, a.out, io);
    return EXIT_OK;
  }
  if (a.api === undefined || a.key === undefined)
    throw new UsageError(
      'MISSING_OPTION',
      'give --bundle FILE, or --api and --key (or ANCHORLOG_API_URL / ANCHORLOG_API_KEY)',
    );
  const body = await adminApi(a.api, a.key, doFetch).call('GET', `${BASE}/${a.argument}/report`);
  if (body.format !== 'anchorlog.access-review-report/v1')
    throw new CheckError('INVALID_RESPONSE', 'the API did not answer with an access review report');
  await emit(body as unknown as AccessReviewReport, format, a.out, io);
  return EXIT_OK;
}

// ---------------------------------------------------------------------------
// Dispatcher entries

const FAILURE: FailureView = { label: 'error' };

export function accessReviewsCommands(deps: () => AccessReviewsDeps): Command[] {
  return [
    apiCommand(START, deps, runStart),
    apiCommand(LIST, deps, runList),
    apiCommand(SHOW, deps, runShow),
    apiCommand(DECIDE, deps, runDecide),
    apiCommand(CLOSE, deps, runClose),
    {
      path: REPORT.path,
      summary: REPORT.summary,
      run: (argv, io) =>
        runCommand(
          REPORT,
          argv,
          io,
          deps().env ?? {},
          (a) => runReport(a as unknown as AccessReportArgs, io, deps().fetch ?? fetch),
          FAILURE,
        ),
    },
  ];
}
