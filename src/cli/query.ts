/**
 * `anchorlog query` — events of a log by filter (GET /v1/logs/{logId}/events,
 * following cursors), or read-only SQL over the view `events` with `--sql`
 * (POST /v1/logs/{logId}/sql; the columnar index, docs/query.md §7).
 * `anchorlog index rebuild` — rebuilds a log's columnar index from the archive
 * (POST /v1/logs/{logId}/index/rebuild, scope admin).
 */
import { defineCommand, option } from './args.ts';
import { runCommand } from './command.ts';
import type { CliIo } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import { apiOptions, CheckError, type ReadApiDeps } from './read-api.ts';
import { choice, logId, text, timeBound, wholeNumberIn } from './values.ts';

const MAX_RESPONSE_CHARS = 32 * 1024 * 1024;

async function call(
  deps: ReadApiDeps,
  target: { url: string; key: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await deps.fetch(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.key}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      redirect: 'error',
    });
  } catch (e) {
    throw new CheckError(
      'API_UNREACHABLE',
      `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const raw = await res.text();
  if (raw.length > MAX_RESPONSE_CHARS)
    throw new CheckError('API_MALFORMED', `${method} ${path}: response too large`);
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    doc = undefined;
  }
  if (!res.ok) {
    const e = (doc as { error?: Record<string, unknown> } | undefined)?.error;
    const code =
      typeof e?.reason === 'string' ? e.reason : typeof e?.code === 'string' ? e.code : `HTTP_${res.status}`;
    throw new CheckError(
      code,
      `${method} ${path}: HTTP ${res.status} ${typeof e?.message === 'string' ? e.message : ''}`,
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new CheckError('API_MALFORMED', `${method} ${path}: response is not a JSON object`);
  return doc as Record<string, unknown>;
}

export const QUERY = defineCommand({
  path: ['query'],
  summary: "a log's events by filter, or read-only SQL over the view events",
  description: `Without --sql: the events of a log matching the filters, in log order (all pages).
With --sql: one read-only SELECT over the view events (columns log, day, leafIndex, receivedAt,
occurredAt, actorType, actorId, action, targetType, targetId, outcome, submitter, event, leafHash;
the result must include leafIndex), answered from the columnar index. --from/--to then choose
which days of the index are read. --target-type, --target-id and --outcome need the columnar index.`,
  options: {
    log: option(logId, 'the log id', { required: true }),
    sql: option(text('SQL'), 'one SELECT (or WITH … SELECT) over the view events'),
    from: option(timeBound, 'receivedAt at or after (RFC 3339)'),
    to: option(timeBound, 'receivedAt before (RFC 3339)'),
    actor: option(text('ID'), 'event.actor.id'),
    action: option(text('PREFIX'), 'action prefix in whole segments (access matches access.grant)'),
    submitter: option(text('ID'), 'the authenticated submitter'),
    'target-type': option(text('TYPE'), 'event.target.type'),
    'target-id': option(text('ID'), 'event.target.id'),
    outcome: option(choice(['success', 'failure', 'denied'], 'OUTCOME'), 'event.outcome'),
    'max-rows': option(wholeNumberIn(1, 10_000), 'SQL: rows to return at most (default 1000)'),
    ...apiOptions('with events:read on the log'),
  },
  json: 'filters: { ok, records: [ { index, receivedAt, submitter, event, leafHash } ] }; --sql: { ok, columns, rows, truncated, indexedSize, bytesRead }',
  examples: [
    {
      title: 'privileged access changes between March 1 and June 30',
      command:
        "anchorlog query --log prod --sql \"SELECT leafIndex, receivedAt, actorId, action, targetId FROM events WHERE action LIKE 'access.%' AND receivedAt >= '2026-03-01' AND receivedAt < '2026-07-01' ORDER BY leafIndex\"",
    },
    {
      title: "an actor's events over 30 days",
      command:
        'anchorlog query --log prod --actor alice --from 2026-03-01T00:00:00Z --to 2026-03-31T00:00:00Z',
    },
  ],
  exitStatus:
    'exit status: 0 the answer, 1 the API refused or failed (SQL refusals name their reason), 2 usage error',
});

export function runQuery(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  return runCommand(QUERY, argv, io, deps.env, async (args) => {
    const target = { url: args.api, key: args.key };
    const log = encodeURIComponent(args.log);
    if (args.sql !== undefined) {
      const r = await call(deps, target, 'POST', `/v1/logs/${log}/sql`, {
        sql: args.sql,
        ...(args.from !== undefined ? { from: args.from } : {}),
        ...(args.to !== undefined ? { to: args.to } : {}),
        ...(args['max-rows'] !== undefined ? { maxRows: args['max-rows'] } : {}),
      });
      const rows = Array.isArray(r.rows) ? (r.rows as Record<string, unknown>[]) : [];
      if (args.json) io.stdout(printableJson({ ok: true, ...r }, 2));
      else
        io.stdout(
          printableLines([
            ...rows.map((x) => JSON.stringify(x)),
            `${rows.length} row(s)${r.truncated ? ' (truncated: raise --max-rows or narrow the query)' : ''}; index covers records [0, ${String(r.indexedSize)}), ${String(r.bytesRead)} bytes read`,
          ]),
        );
      return 0;
    }
    const params = new URLSearchParams({ limit: '1000' });
    const set = (k: string, v: string | undefined) => v !== undefined && params.set(k, v);
    set('from', args.from);
    set('to', args.to);
    set('actorId', args.actor);
    set('actionPrefix', args.action);
    set('submitter', args.submitter);
    set('targetType', args['target-type']);
    set('targetId', args['target-id']);
    set('outcome', args.outcome);
    const records: unknown[] = [];
    let cursor: string | undefined;
    do {
      if (cursor) params.set('cursor', cursor);
      const page = await call(deps, target, 'GET', `/v1/logs/${log}/events?${params}`);
      if (!Array.isArray(page.records))
        throw new CheckError('API_MALFORMED', 'events: response has no records');
      records.push(...page.records);
      cursor = typeof page.cursor === 'string' ? page.cursor : undefined;
    } while (cursor);
    if (args.json) io.stdout(printableJson({ ok: true, records }, 2));
    else io.stdout(printableLines([...records.map((x) => JSON.stringify(x)), `${records.length} record(s)`]));
    return 0;
  });
}

export const INDEX_REBUILD = defineCommand({
  path: ['index', 'rebuild'],
  summary: "rebuild a log's columnar query index from the archive",
  description: `Deletes the log's columnar index and writes it again from the sealed entry bundles in the
archive (docs/query.md §7). One request works for up to ~20 s; the scheduled projector finishes a
large log, or run the command again (it starts over).`,
  options: {
    log: option(logId, 'the log id', { required: true }),
    ...apiOptions('with admin on the log'),
  },
  json: '{ ok, logId, records, files, nextIndex, sealedSize, done }',
  examples: [{ title: 'rebuild the index of log prod', command: 'anchorlog index rebuild --log prod' }],
  exitStatus:
    'exit status: 0 rebuilt (or continuing in the projector), 1 the API refused or failed, 2 usage error',
});

export function runIndexRebuild(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  return runCommand(INDEX_REBUILD, argv, io, deps.env, async (args) => {
    const r = await call(
      deps,
      { url: args.api, key: args.key },
      'POST',
      `/v1/logs/${encodeURIComponent(args.log)}/index/rebuild`,
      {},
    );
    if (args.json) io.stdout(printableJson({ ok: true, ...r }, 2));
    else
      io.stdout(
        printableLines([
          r.done
            ? `index of ${args.log} rebuilt: ${String(r.nextIndex)} record(s)`
            : `index of ${args.log} rebuilt up to record ${String(r.nextIndex)} of ${String(r.sealedSize)}; the projector continues`,
        ]),
      );
    return 0;
  });
}
