/**
 * The operator pages (docs/console.md §Operator pages): the logs' state,
 * event search through the query API, one event's inclusion proof (re-checked
 * here with the core's verifyInclusion), and alert review (acknowledge,
 * resolve). Every call goes to the API with the key from sessionStorage;
 * every API error is shown as its code and message.
 */
import { fromBase64 } from '../../../src/core/bytes.ts';
import { verifyInclusion } from '../../../src/core/merkle/index.ts';
import { parseCheckpoint } from '../../../src/core/note/checkpoint.ts';
import { parseNote } from '../../../src/core/note/signed-note.ts';
import { byId, facts, fill, h } from '../dom.ts';
import { ApiError, api, session } from './api.ts';
import { guarded } from './error-view.ts';

interface AnchorTsa {
  readonly name: string;
  readonly status: string;
  readonly genTime?: string;
  readonly error?: { code: string; message: string };
}
interface AnchorsDoc {
  readonly size: number;
  readonly quorum?: { required: number; tsaCount: number; granted: number; met: boolean };
  readonly tsas?: AnchorTsa[];
}
/** GET /v1/logs/{logId}/health (src/app/log-health.ts). */
interface LogHealthDoc {
  readonly sealedSize: number;
  readonly sealedAt: string | null;
  readonly checkpointAgeSeconds: number | null;
  readonly published: boolean;
  readonly sealLag: {
    seconds: number;
    thresholdSeconds: number;
    over: boolean;
    oldestUnsealed: { seq: number; receivedAt: string } | null;
  };
  readonly halted: { code: string; message: string } | null;
}
interface EventRecord {
  readonly index: number;
  readonly receivedAt: string;
  readonly leafHash: string;
  readonly event: { action: string; outcome: string; actor: { type: string; id: string } };
}
interface AlertItem {
  readonly alert: {
    id: string;
    logId: string;
    title: string;
    severity: string;
    firedAt: string;
    summary: string;
  };
  readonly review: { status: string; rev: number };
}

const enc = encodeURIComponent;

async function checkpointOf(log: string): Promise<{ size: number; root: Uint8Array; cosignatures: number }> {
  const text = (await api('GET', `/v1/logs/${enc(log)}/checkpoint`, { text: true })) as string;
  const note = parseNote(text);
  const cp = parseCheckpoint(note.text);
  return { size: cp.size, root: cp.rootHash, cosignatures: Math.max(0, note.signatures.length - 1) };
}

function seconds(s: number): string {
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

function age(iso: string | undefined): string {
  if (!iso) return '—';
  return seconds(Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)));
}

/** The sealing cells of a log's row: checkpoint age, seal lag, and sealing halted or running. */
function healthCells(health: LogHealthDoc): HTMLTableCellElement[] {
  const lag = health.sealLag;
  return [
    h(
      'td',
      { class: 'num', 'data-age': health.checkpointAgeSeconds ?? '' },
      health.checkpointAgeSeconds === null ? 'never sealed' : seconds(health.checkpointAgeSeconds),
      health.published ? '' : ' (publish pending)',
    ),
    h(
      'td',
      {
        class: lag.over ? 'num status-bad' : 'num',
        'data-lag': lag.seconds,
        title: lag.oldestUnsealed
          ? `oldest unsealed batch ${lag.oldestUnsealed.seq}, received ${lag.oldestUnsealed.receivedAt}; alarm at ${lag.thresholdSeconds} s`
          : 'every record is sealed',
      },
      lag.oldestUnsealed ? seconds(lag.seconds) : 'none',
      lag.over ? ` (over ${seconds(lag.thresholdSeconds)})` : '',
    ),
    health.halted
      ? h(
          'td',
          { class: 'status-bad halted', 'data-halted': health.halted.code, title: health.halted.message },
          `HALTED: ${health.halted.code}`,
        )
      : h('td', { class: 'status-ok' }, 'running'),
  ];
}

const COLUMNS = 9;

async function logRow(log: string): Promise<HTMLTableRowElement> {
  try {
    const health = (await api('GET', `/v1/logs/${enc(log)}/health`)) as LogHealthDoc;
    // A halted or never sealed log may have no checkpoint to show: its health row still is.
    const cp = await checkpointOf(log).catch((e: unknown) => {
      if (e instanceof ApiError && e.code === 'NOT_FOUND' && (health.halted || health.sealedSize === 0))
        return { size: 0, root: new Uint8Array(32), cosignatures: 0 };
      throw e;
    });
    const anchors = (await api('GET', `/v1/logs/${enc(log)}/anchors`).catch((e: unknown) => {
      if (e instanceof ApiError && e.code === 'NOT_FOUND') return { size: 0, tsas: [] };
      throw e;
    })) as AnchorsDoc;
    const tsas = anchors.tsas ?? [];
    const newest = tsas
      .map((t) => t.genTime)
      .filter((t): t is string => !!t)
      .sort()
      .at(-1);
    return h(
      'tr',
      { 'data-log': log, ...(health.halted ? { 'data-halted': health.halted.code } : {}) },
      h('td', {}, log),
      h('td', { class: 'num', 'data-size': cp.size }, cp.size.toLocaleString()),
      ...healthCells(health),
      h('td', { class: 'num' }, cp.cosignatures),
      h(
        'td',
        {},
        tsas.length === 0
          ? 'none yet'
          : h(
              'ul',
              {},
              ...tsas.map((t) =>
                h(
                  'li',
                  {},
                  `${t.name}: ${t.status}${t.genTime ? `, ${t.genTime}` : ''}${t.error ? ` (${t.error.code})` : ''}`,
                  anchors.size !== cp.size ? ` — over size ${anchors.size}` : '',
                ),
              ),
            ),
      ),
      h(
        'td',
        { class: anchors.quorum?.met ? 'status-ok' : 'status-bad' },
        anchors.quorum
          ? `${anchors.quorum.granted} of ${anchors.quorum.required} ${anchors.quorum.met ? 'met' : 'NOT met'}`
          : '—',
      ),
      h('td', {}, age(newest)),
    );
  } catch (e) {
    const err = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
    return h(
      'tr',
      { 'data-log': log },
      h('td', {}, log),
      h('td', { colspan: COLUMNS - 1, class: 'error' }, err),
    );
  }
}

/** As for alerts: a load started with an earlier key (the one restored at page load) never renders over a newer one. */
let logLoads = 0;

async function loadLogs(): Promise<void> {
  const load = ++logLoads;
  const logs = session.logs();
  const rows = await Promise.all(logs.map(logRow));
  if (load !== logLoads) return;
  fill(byId('log-rows'), ...rows);
  fill(byId('q-log'), ...logs.map((l) => h('option', { value: l }, l)));
  for (const id of ['logs', 'events', 'alerts']) byId(id).hidden = false;
}

// ---- events ----

let cursor: string | undefined;
let shown = 0;

async function searchEvents(more: boolean): Promise<void> {
  const log = byId<HTMLSelectElement>('q-log').value;
  if (!more) {
    cursor = undefined;
    shown = 0;
    fill(byId('event-rows'));
  }
  const value = (id: string) => byId<HTMLInputElement>(id).value.trim() || undefined;
  // The API pages by bounded work: a page may be short (even empty) and still have a cursor.
  let added = 0;
  do {
    const page = (await api('GET', `/v1/logs/${enc(log)}/events`, {
      query: {
        from: value('q-from') ?? new Date(Date.now() - 7 * 86_400_000).toISOString(),
        to: value('q-to') ?? new Date(Date.now() + 60_000).toISOString(),
        actionPrefix: value('q-action'),
        actorId: value('q-actor'),
        limit: '50',
        cursor,
      },
    })) as { records: EventRecord[]; cursor?: string };
    cursor = page.cursor;
    for (const r of page.records) {
      const proof = h('button', { type: 'button', class: 'link', 'data-index': r.index }, 'inclusion proof');
      proof.addEventListener('click', () => void guarded(() => showProof(log, r)));
      byId('event-rows').append(
        h(
          'tr',
          {},
          h('td', { class: 'num' }, r.index),
          h('td', {}, r.receivedAt),
          h('td', {}, r.event.action),
          h('td', {}, `${r.event.actor.type}:${r.event.actor.id}`),
          h('td', {}, r.event.outcome),
          h('td', {}, proof),
        ),
      );
    }
    added += page.records.length;
  } while (cursor && added < 50);
  shown += added;
  const count = byId('event-count');
  count.dataset.shown = String(shown);
  count.textContent = `${shown} event(s)${cursor ? ', more available' : ''}`;
  byId('more-events').hidden = !cursor;
}

async function showProof(log: string, r: EventRecord): Promise<void> {
  const box = byId('event-proof');
  const cp = await checkpointOf(log);
  if (r.index >= cp.size) {
    fill(
      box,
      h('h2', {}, `Event ${r.index}`),
      h('p', {}, `not sealed yet: the latest checkpoint has ${cp.size} records`),
    );
    box.hidden = false;
    return;
  }
  const p = (await api('GET', `/v1/logs/${enc(log)}/proof/inclusion`, {
    query: { index: String(r.index), size: String(cp.size) },
  })) as { index: number; size: number; hashes: string[] };
  let verdict = 'yes: the leaf hash and the path give the checkpoint root';
  try {
    verifyInclusion(fromBase64(r.leafHash), r.index, cp.size, p.hashes.map(fromBase64), cp.root);
  } catch (e) {
    verdict = `NO: ${e instanceof Error ? e.message : String(e)}`;
  }
  fill(
    box,
    h('h2', {}, `Event ${r.index}: inclusion proof`),
    facts([
      ['Leaf hash', h('code', {}, r.leafHash)],
      ['Checkpoint', `size ${cp.size} (as served; its signature is checked by anchorlog prove --trust)`],
      ['Verified here', verdict],
    ]),
    h('ol', { class: 'mono' }, ...p.hashes.map((x) => h('li', {}, x))),
  );
  box.dataset.index = String(r.index);
  box.dataset.verified = verdict.startsWith('yes') ? '1' : '0';
  box.hidden = false;
}

// ---- alerts ----

/** Loads started; only the newest one's answer is rendered (an older one may answer last). */
let alertLoads = 0;

async function loadAlerts(): Promise<void> {
  const load = ++alertLoads;
  const status = byId<HTMLSelectElement>('a-status').value;
  const doc = (await api('GET', '/v1/admin/alerts', { query: { status, limit: '100' } })) as {
    alerts: AlertItem[];
  };
  if (load !== alertLoads) return;
  // A re-render (after any acknowledge or resolve) keeps what the operator has
  // chosen or typed in rows still shown, rather than resetting it under them.
  const typed = new Map<string, { outcome: string; notes: string }>();
  for (const tr of Array.from(byId('alert-rows').querySelectorAll<HTMLTableRowElement>('tr[data-alert]'))) {
    const outcome = tr.querySelector<HTMLSelectElement>('select.outcome');
    const notes = tr.querySelector<HTMLInputElement>('input.notes');
    if (outcome && notes)
      typed.set(tr.dataset.alert as string, { outcome: outcome.value, notes: notes.value });
  }
  fill(
    byId('alert-rows'),
    ...doc.alerts.map((a) => {
      const actions = h('div', { class: 'inline' });
      const id = enc(a.alert.id);
      if (a.review.status === 'open') {
        const ack = h('button', { type: 'button', class: 'ack' }, 'Acknowledge');
        ack.addEventListener('click', () =>
          guarded(async () => {
            await api('POST', `/v1/admin/alerts/${id}/ack`, { body: {} });
            await loadAlerts();
          }),
        );
        actions.append(ack);
      }
      if (a.review.status !== 'resolved') {
        const outcome = h(
          'select',
          { class: 'outcome' },
          ...['true_positive', 'false_positive', 'accepted_risk'].map((o) => h('option', { value: o }, o)),
        );
        const notes = h('input', { type: 'text', class: 'notes', placeholder: 'notes', size: 20 });
        const kept = typed.get(a.alert.id);
        if (kept) {
          outcome.value = kept.outcome;
          notes.value = kept.notes;
        }
        const resolve = h('button', { type: 'button', class: 'resolve' }, 'Resolve');
        resolve.addEventListener('click', () =>
          guarded(async () => {
            await api('POST', `/v1/admin/alerts/${id}/resolve`, {
              body: { outcome: outcome.value, ...(notes.value ? { notes: notes.value } : {}) },
            });
            await loadAlerts();
          }),
        );
        actions.append(outcome, notes, resolve);
      }
      return h(
        'tr',
        { 'data-alert': a.alert.id, 'data-status': a.review.status },
        h('td', {}, a.alert.firedAt),
        h('td', {}, a.alert.logId),
        h('td', {}, a.alert.severity),
        h('td', { title: a.alert.summary }, a.alert.title),
        h('td', {}, a.review.status),
        h('td', {}, actions),
      );
    }),
  );
  byId('alerts').dataset.loaded = String(doc.alerts.length);
}

// ---- wiring ----

byId('connect-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const logs = byId<HTMLInputElement>('log-ids')
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  session.save(byId<HTMLInputElement>('api-key').value.trim(), logs);
  void guarded(loadLogs);
});
byId('forget').addEventListener('click', () => {
  session.clear();
  location.reload();
});
byId('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void guarded(() => searchEvents(false));
});
byId('more-events').addEventListener('click', () => void guarded(() => searchEvents(true)));
byId('alert-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void guarded(loadAlerts);
});

byId<HTMLInputElement>('log-ids').value = session.logs().join(',');
if (session.key()) {
  byId<HTMLInputElement>('api-key').value = session.key();
  void guarded(loadLogs);
}
document.body.dataset.ready = '1';
