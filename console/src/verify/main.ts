/**
 * The auditor's verify page (docs/console.md): choose a bundle and a
 * TRUST.json, verify in a Web Worker, read the verdict, the claims, the
 * anchors, the histograms, the records and one record's proof. The page
 * makes no network request after it has loaded: the worker is started (and
 * its script fetched) at load, and everything else is the user's files.
 */
import type { Verdict } from '../../../src/cli/verdict.ts';
import type { BundleReport } from '../../../src/core/bundle/index.ts';
import type { ClassAnswerReport } from '../../../src/core/classes/answer-doc.ts';
import { bars, byId, facts, fill, h } from '../dom.ts';
import type { Histograms, RecordProof, Reply, Request, Row } from './protocol.ts';
import { spawnVerifyWorker } from './spawn.ts';

const PAGE = 50;

const worker = spawnVerifyWorker();
const send = (r: Request) => worker.postMessage(r);

const bundleInput = byId<HTMLInputElement>('bundle');
const trustInput = byId<HTMLInputElement>('trust');
const trustText = byId<HTMLTextAreaElement>('trust-text');
const verifyButton = byId<HTMLButtonElement>('verify');
const progress = byId<HTMLProgressElement>('progress');
const progressText = byId('progress-text');
const drop = byId('drop');
const chosen = byId('chosen');

let bundle: File | undefined;
let trust: File | undefined;
let query = '';
let offset = 0;
let progressUpdates = 0;

if (location.protocol === 'file:')
  document.querySelectorAll('nav .operator').forEach((a) => {
    a.remove();
  });

function showChosen(): void {
  fill(
    chosen,
    h(
      'span',
      {},
      'Bundle: ',
      h('b', {}, bundle ? `${bundle.name} (${bundle.size.toLocaleString()} bytes)` : 'none'),
    ),
    h('span', {}, 'Trust: ', h('b', {}, trust ? trust.name : trustText.value.trim() ? 'pasted' : 'none')),
  );
  verifyButton.disabled = !bundle || !document.body.dataset.ready;
}

// src/core/classes/answer-doc.ts's CLASS_ANSWER_FORMAT, spelled out: the page imports no verifier code.
const CLASS_ANSWER_FORMAT = 'anchorlog-class-answer';

/** A dropped .json is TRUST.json unless it is a class answer document (it names its format near the start). */
async function take(files: FileList | null): Promise<void> {
  for (const f of Array.from(files ?? [])) {
    if (
      f.name.toLowerCase().endsWith('.json') &&
      !(await f.slice(0, 4096).text()).includes(CLASS_ANSWER_FORMAT)
    )
      trust = f;
    else bundle = f;
  }
  showChosen();
}

bundleInput.addEventListener('change', () => {
  bundle = bundleInput.files?.[0];
  showChosen();
});
trustInput.addEventListener('change', () => {
  trust = trustInput.files?.[0];
  showChosen();
});
trustText.addEventListener('input', showChosen);
for (const ev of ['dragenter', 'dragover'] as const)
  drop.addEventListener(ev, (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  void take(e.dataTransfer?.files ?? null);
});

verifyButton.addEventListener('click', async () => {
  if (!bundle) return;
  document.body.dataset.state = 'verifying';
  const pasted = trustText.value.trim();
  const trustBody = trust ? await trust.text() : pasted ? pasted : null;
  for (const id of ['verdict', 'claims', 'anchors', 'histograms', 'records', 'proof']) byId(id).hidden = true;
  progressUpdates = 0;
  progress.value = 0;
  progressText.textContent = 'reading…';
  byId('progress-box').hidden = false;
  verifyButton.disabled = true;
  send({ type: 'verify', bundle, trust: trustBody, trustName: trust ? trust.name : 'pasted TRUST.json' });
});

const HEADLINE: Record<Verdict['status'] | 'failed' | 'usage', string> = {
  ok: 'VERIFIED against pinned trust; range complete',
  untrusted: 'VERIFIED, BUT NOT AGAINST PINNED TRUST',
  incomplete: 'VERIFIED, COMPLETENESS NOT PROVED',
  failed: 'FAILED',
  usage: 'TRUST.json NOT USABLE',
};

/** The same verdicts for a class answer (docs/classes.md): complete, or why not. */
const CLASS_HEADLINE: Record<Verdict['status'], string> = {
  ok: 'VERIFIED against pinned trust; complete for the class',
  untrusted: 'VERIFIED, BUT NOT AGAINST PINNED TRUST',
  incomplete: 'VERIFIED, BUT NOT COMPLETE',
};

function verdictBox(
  status: keyof typeof HEADLINE,
  exitCode: number,
  detail: (Node | string)[],
  code = '',
  title = `Bundle: ${HEADLINE[status]}`,
): void {
  const box = byId('verdict');
  box.className = `verdict ${status}`;
  box.dataset.exitCode = String(exitCode);
  box.dataset.status = status;
  box.dataset.code = code;
  fill(
    box,
    h('h2', {}, title),
    h('p', { class: 'exit' }, `Same result as anchorlog verify --trust: exit ${exitCode}`),
    ...detail,
  );
  box.hidden = false;
}

function showVerified(r: BundleReport, v: Verdict, hist: Histograms, records: number, millis: number): void {
  const box = byId('verdict');
  // For bench/console.ts: the verifier's own time (worker clock), not the table's.
  box.dataset.millis = String(millis);
  box.dataset.records = String(records);
  verdictBox(v.status, v.exitCode, [
    ...(v.shortfalls.length > 0
      ? [
          h(
            'ul',
            { class: 'shortfalls' },
            ...v.shortfalls.map((s) =>
              h('li', {}, h('code', {}, s.code), ` (exit ${s.exitCode}): ${s.message}`),
            ),
          ),
        ]
      : []),
    h(
      'p',
      { class: 'speed' },
      `${records.toLocaleString()} records verified in ${(millis / 1000).toFixed(2)} s (${Math.round(records / Math.max(millis / 1000, 0.001)).toLocaleString()} records/s), in this browser, offline.`,
    ),
  ]);
  const claims = byId('claims');
  fill(
    claims,
    h('h2', {}, 'What is proved'),
    facts([
      ['Log', `${r.logId} (origin ${r.origin})`],
      ['Time range', `[${r.range.fromTime}, ${r.range.toTime})`],
      [
        'Indexes',
        `${r.range.firstIndex}..${r.range.lastIndex} (${r.records.count} records, ${r.records.bytes} bytes)`,
      ],
      ['Mode', r.mode === 'range' ? 'range export' : `filtered export: ${r.filterText ?? ''}`],
      ['Checkpoint', `size ${r.checkpoint.size}, root ${r.checkpoint.rootHash}`],
      ['Signed by', r.checkpoint.signedBy.join(', ')],
      [
        'Existed by',
        `${r.timeStamps.existedBy} (${r.timeStamps.quorum} of ${r.timeStamps.distinctTsas} distinct TSAs needed)`,
      ],
      ['Exported', r.createdAt],
    ]),
    h('ul', { class: 'proved' }, ...r.proved.map((p) => h('li', {}, p))),
    r.warnings.length > 0
      ? h(
          'section',
          { class: 'warnings' },
          h('h3', {}, 'Warnings'),
          h('ul', {}, ...r.warnings.map((w) => h('li', {}, w))),
        )
      : null,
  );
  claims.hidden = false;
  const anchors = byId('anchors');
  fill(
    anchors,
    h('h2', {}, `Anchors (${r.anchors.length})`),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['TSA', 'Authority', 'Time', '±', 'Existed by', 'Checkpoint', 'Serial'].map((t) =>
            h('th', {}, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...r.anchors.map((a) =>
          h(
            'tr',
            {},
            h('td', {}, a.tsa),
            h('td', {}, a.tsaName),
            h('td', {}, a.genTime),
            h('td', {}, a.accuracyMs === null ? '—' : `${a.accuracyMs} ms`),
            h('td', {}, a.existedBy),
            h('td', { class: 'num' }, a.checkpointSize),
            h('td', { class: 'mono' }, a.serialNumber),
          ),
        ),
      ),
    ),
  );
  anchors.hidden = false;
  const histograms = byId('histograms');
  fill(
    histograms,
    h('h2', {}, 'Records by day and by action'),
    h(
      'div',
      { class: 'charts' },
      bars('Per day (receivedAt, UTC)', hist.days, 'per-day'),
      bars('Per action', hist.actions.slice(0, 30), 'per-action'),
    ),
  );
  histograms.hidden = false;
  byId('records').hidden = false;
  query = '';
  offset = 0;
  byId<HTMLInputElement>('search').value = '';
  send({ type: 'search', query, offset, limit: PAGE });
}

function showClassVerified(r: ClassAnswerReport, v: Verdict, millis: number): void {
  const box = byId('verdict');
  box.dataset.millis = String(millis);
  box.dataset.records = String(r.records.length);
  box.dataset.statement = r.statement;
  verdictBox(
    v.status,
    v.exitCode,
    [
      h('p', { class: 'statement' }, r.statement),
      ...(v.shortfalls.length > 0
        ? [
            h(
              'ul',
              { class: 'shortfalls' },
              ...v.shortfalls.map((s) =>
                h('li', {}, h('code', {}, s.code), ` (exit ${s.exitCode}): ${s.message}`),
              ),
            ),
          ]
        : []),
    ],
    '',
    `Class answer: ${CLASS_HEADLINE[v.status]}`,
  );
  const claims = byId('claims');
  const first = r.records[0];
  const last = r.records[r.records.length - 1];
  fill(
    claims,
    h('h2', {}, 'What is proved'),
    facts([
      ['Log', `${r.logId} (origin ${r.origin})`],
      ['Class', `${r.className} v${r.classVersion} = ${r.rule}, declared at tree size ${r.declaredAtSize}`],
      ['Time range', `[${r.fromTime}, ${r.toTime})`],
      [
        'Records',
        first && last ? `${r.records.length} (indexes ${first.index}..${last.index})` : '0 (proved empty)',
      ],
      ['Checkpoint', `size ${r.checkpointSize}`],
      ['Time-stamped', r.anchors.map((a) => `${a.tsa} at ${a.genTime}`).join('; ')],
    ]),
    h(
      'ul',
      { class: 'proved' },
      h('li', {}, 'each record is in the log under the signed, time-stamped checkpoint (inclusion proofs)'),
      h('li', {}, "each record is of the class, by the rule on the checkpoint's class line"),
      h(
        'li',
        {},
        "the class log's entries between the range's boundaries are exactly these records (a range proof over the class log)",
      ),
    ),
  );
  claims.hidden = false;
}

function showRows(rows: readonly Row[], total: number, at: number): void {
  const body = byId('record-rows');
  fill(
    body,
    ...rows.map((r) => {
      const open = h('button', { type: 'button', class: 'link', 'data-index': r.index }, String(r.index));
      open.addEventListener('click', () => send({ type: 'record', index: r.index }));
      return h(
        'tr',
        {},
        h('td', { class: 'num' }, open),
        h('td', {}, r.receivedAt),
        h('td', {}, r.action),
        h('td', {}, r.actor),
        h('td', {}, r.target),
        h('td', {}, r.outcome),
      );
    }),
  );
  const count = byId('record-count');
  count.dataset.total = String(total);
  count.textContent =
    total === 0 ? 'no records match' : `${at + 1}–${at + rows.length} of ${total.toLocaleString()} records`;
  byId<HTMLButtonElement>('prev-page').disabled = at === 0;
  byId<HTMLButtonElement>('next-page').disabled = at + rows.length >= total;
}

byId('search').addEventListener('input', (e) => {
  query = (e.target as HTMLInputElement).value;
  offset = 0;
  send({ type: 'search', query, offset, limit: PAGE });
});
byId('prev-page').addEventListener('click', () => {
  offset = Math.max(0, offset - PAGE);
  send({ type: 'search', query, offset, limit: PAGE });
});
byId('next-page').addEventListener('click', () => {
  offset += PAGE;
  send({ type: 'search', query, offset, limit: PAGE });
});

function hashList(title: string, hashes: readonly string[]): HTMLElement {
  return h(
    'div',
    {},
    h('h4', {}, `${title} (${hashes.length})`),
    hashes.length === 0
      ? h('p', {}, '(empty)')
      : h('ol', { class: 'mono' }, ...hashes.map((x) => h('li', {}, x))),
  );
}

function showProof(p: RecordProof | null, error?: string): void {
  const box = byId('proof');
  if (!p) {
    fill(box, h('h2', {}, 'Record proof'), h('p', { class: 'error' }, error ?? 'record not in this bundle'));
    box.hidden = false;
    return;
  }
  let pretty = p.record;
  try {
    pretty = JSON.stringify(JSON.parse(p.record), null, 2);
  } catch {}
  fill(
    box,
    h('h2', {}, `Record ${p.index}: how it is proved`),
    facts([
      ['Leaf hash', h('code', {}, p.leafHash)],
      ['Chained to (prev)', h('code', {}, p.prev)],
      ['Checkpoint', `size ${p.checkpointSize}, root ${p.checkpointRoot}`],
      [
        'Inclusion',
        p.kind === 'inclusion'
          ? `the bundle's RFC 9162 inclusion proof under checkpoint ${p.checkpointSize}`
          : `RFC 9162 inclusion proof in the tree of size ${p.treeSize} (root ${p.treeRoot}), derived from proofs.json's compact range and the range's leaves, then the consistency proof to checkpoint ${p.checkpointSize}`,
      ],
      [
        'Re-checked here',
        p.rechecked ? 'yes: inclusion (and consistency) recomputed to the signed root' : 'no',
      ],
    ]),
    hashList('Inclusion proof, bottom-up', p.inclusion),
    p.kind === 'range' ? hashList(`Consistency ${p.treeSize} → ${p.checkpointSize}`, p.consistency) : null,
    h('h4', {}, 'Canonical record'),
    h('pre', { class: 'record' }, pretty),
  );
  box.dataset.index = String(p.index);
  box.hidden = false;
}

worker.onmessage = (ev: MessageEvent<Reply>) => {
  const m = ev.data;
  switch (m.type) {
    case 'ready':
      document.body.dataset.ready = '1';
      showChosen();
      return;
    case 'progress':
      progressUpdates++;
      document.body.dataset.progressUpdates = String(progressUpdates);
      progress.value = m.total === 0 ? 1 : m.read / m.total;
      progressText.textContent = `${Math.round(progress.value * 100)} % (${m.read.toLocaleString()} of ${m.total.toLocaleString()} bytes)`;
      return;
    case 'verified':
      progress.value = 1;
      progressText.textContent = 'done';
      byId('verdict').dataset.pooledChunks = String(m.pooledChunks);
      byId('verdict').dataset.hash = m.hash;
      showVerified(m.report, m.verdict, m.histograms, m.records, m.millis);
      document.body.dataset.state = 'done';
      verifyButton.disabled = false;
      return;
    case 'class-verified':
      progress.value = 1;
      progressText.textContent = 'done';
      showClassVerified(m.report, m.verdict, m.millis);
      document.body.dataset.state = 'done';
      verifyButton.disabled = false;
      return;
    case 'failed':
      progressText.textContent = 'stopped';
      verdictBox(
        m.exitCode === 2 ? 'usage' : 'failed',
        m.exitCode,
        [
          facts([
            ['Code', h('code', {}, m.code)],
            ...(m.index !== null ? ([['Record', String(m.index)]] as const) : []),
            ...(m.member !== null ? ([['Member', m.member]] as const) : []),
            ['Reason', m.message],
          ]),
        ],
        m.code,
      );
      document.body.dataset.state = 'done';
      verifyButton.disabled = false;
      return;
    case 'rows':
      showRows(m.rows, m.total, m.offset);
      return;
    case 'proof':
      showProof(m.proof, m.error);
      return;
  }
};
worker.onerror = (e) => {
  verdictBox('failed', 1, [h('p', {}, `the verifier stopped: ${e.message}`)], 'INTERNAL_ERROR');
  document.body.dataset.state = 'done';
};
