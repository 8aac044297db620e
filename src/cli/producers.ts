/**
 * `anchorlog producers` — the producer streams of a log (GET
 * /v1/logs/{logId}/producers, docs/events.md §Producer streams): per stream
 * the contiguous seq, what is missing and since when, duplicates, resets and
 * whether it went silent past its heartbeat. Exit 0 when no stream has an
 * overdue gap or is silent, 1 when one has (so a cron job can alarm on it).
 */
import { defineCommand, option } from './args.ts';
import { runCommand } from './command.ts';
import type { CliIo } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import { apiJson, apiOptions, CheckError, type ReadApiDeps } from './read-api.ts';
import { logId } from './values.ts';

export const PRODUCERS = defineCommand({
  path: ['producers'],
  summary: "show a log's producer streams: contiguous seq, gaps, silence",
  description: `Lists the producer streams of a log (events carrying producer: { stream, seq }): the
highest contiguous seq, the open gaps (seqs sent but never received) with when each was
noticed, duplicates, resets and heartbeat silence. Exit 1 when a gap is overdue or a
stream is silent past its declared heartbeat interval.`,
  options: {
    log: option(logId, 'the log id', { required: true }),
    ...apiOptions('with events:read on the log'),
  },
  json: '{ ok, streams: [ { stream, epoch, contiguous, highest, gaps, missing, overdueGaps, silent, … } ] }',
  examples: [{ title: 'the streams of log prod', command: 'anchorlog producers --log prod' }],
  exitStatus: 'exit status: 0 no stream overdue or silent, 1 one is (or the API failed), 2 usage error',
});

interface Stream {
  stream: string;
  epoch: number;
  contiguous: number;
  highest: number;
  gaps: { from: number; to: number; since: number }[];
  missing: number;
  overdueGaps: number;
  duplicates: number;
  resets: number;
  lastSeenAt: number;
  silent: boolean;
}

function isPage(v: unknown): v is { streams: Stream[]; cursor?: string } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { streams?: unknown }).streams);
}

export function runProducers(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  return runCommand(PRODUCERS, argv, io, deps.env, async (args) => {
    const target = { url: args.api, key: args.key };
    const streams: Stream[] = [];
    let cursor: string | undefined;
    do {
      const q = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await apiJson(deps, target, `/v1/logs/${encodeURIComponent(args.log)}/producers?${q}`);
      if (!isPage(page)) throw new CheckError('API_MALFORMED', 'producers: response has no streams');
      streams.push(...page.streams);
      cursor = page.cursor;
    } while (cursor);
    const bad = streams.filter((s) => s.overdueGaps > 0 || s.silent);
    if (args.json) io.stdout(printableJson({ ok: bad.length === 0, streams }, 2));
    else
      io.stdout(
        printableLines([
          `${streams.length} stream(s) in log ${args.log}; ${bad.length} overdue or silent`,
          ...streams.map(
            (s) =>
              `${s.stream}  epoch ${s.epoch}  contiguous ${s.contiguous}/${s.highest}  missing ${s.missing}` +
              (s.gaps.length
                ? ` [${s.gaps.map((g) => (g.from === g.to ? `${g.from}` : `${g.from}-${g.to}`)).join(', ')}]`
                : '') +
              `  dup ${s.duplicates}  resets ${s.resets}  last ${new Date(s.lastSeenAt).toISOString()}` +
              (s.overdueGaps ? `  OVERDUE ${s.overdueGaps}` : '') +
              (s.silent ? '  SILENT' : ''),
          ),
        ]),
      );
    return bad.length === 0 ? 0 : 1;
  });
}
