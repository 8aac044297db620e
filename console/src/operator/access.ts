/**
 * The access reviews page (docs/console.md §Access reviews), over the admin
 * API's `/v1/admin/access-reviews…` (docs/access.md §Access reviews; scope
 * `access:review` on `*`): list the reviews, start one, open one with its
 * snapshot's principals and their flags, decide keep / revoke / change with a
 * reason, close it, and download the CSV report.
 *
 * What the page shows of a review is the API's report (computed from the
 * review's `system` log records alone) joined with the review's working set
 * (`GET …/{id}`: a decision still staged shows as pending). The API decides
 * everything; a refusal is shown as its code and `reason` (ALREADY_DECIDED,
 * REVIEW_CLOSED, INVALID_REASON, …) and nothing is retried behind the user.
 */
import { byId, facts, fill, h } from '../dom.ts';
import { ApiError, api, session } from './api.ts';
import { guarded } from './error-view.ts';

interface ReviewView {
  readonly id: string;
  readonly status: 'starting' | 'open' | 'closing' | 'closed';
  readonly name: string;
  readonly startedAt: string;
  readonly startedBy: string;
  readonly items: number;
  readonly closedAt?: string;
  readonly closedBy?: string;
}
interface DecisionView {
  readonly principalId: string;
  readonly decision: string;
  readonly reason: string;
  readonly by: string;
  readonly at: string;
  readonly pending?: true;
}
interface ReportRow {
  readonly principalId: string;
  readonly name: string;
  readonly kind: string;
  readonly owner: string;
  readonly status: string;
  readonly roles: readonly string[];
  readonly keyAgeDays: number | null;
  readonly lastUsedAt: string | null;
  readonly flags: readonly string[];
  readonly decision: string | null;
  readonly reason: string | null;
  readonly reviewer: string | null;
  readonly decidedAt: string | null;
}
interface Report {
  readonly items: readonly ReportRow[];
  readonly undecided: readonly string[];
  readonly problems: readonly { index: number; problem: string }[];
}

const enc = encodeURIComponent;
const DECISIONS = ['keep', 'revoke', 'change'] as const;

// ---- the list ----

let listCursor: string | undefined;
/** Loads started; only the newest one's answer is rendered. */
let listLoads = 0;

function reviewRow(r: ReviewView): HTMLTableRowElement {
  const open = h('button', { type: 'button', class: 'link open-review' }, 'open');
  open.addEventListener('click', () => void guarded(() => showReview(r.id)));
  return h(
    'tr',
    { 'data-review': r.id, 'data-status': r.status },
    h('td', {}, r.name),
    h('td', { class: 'mono' }, r.id),
    h('td', {}, r.status),
    h('td', {}, r.startedAt),
    h('td', {}, r.startedBy),
    h('td', { class: 'num' }, r.items),
    h('td', {}, r.closedAt ? `${r.closedAt} by ${r.closedBy ?? '?'}` : ''),
    h('td', {}, open),
  );
}

async function loadReviews(more: boolean): Promise<void> {
  const load = ++listLoads;
  if (!more) listCursor = undefined;
  const page = (await api('GET', '/v1/admin/access-reviews', {
    query: { limit: '50', cursor: listCursor },
  })) as {
    reviews: ReviewView[];
    cursor?: string;
  };
  if (load !== listLoads) return;
  const rows = page.reviews.map(reviewRow);
  if (more) byId('review-rows').append(...rows);
  else fill(byId('review-rows'), ...rows);
  listCursor = page.cursor;
  byId('more-reviews').hidden = !listCursor;
  const section = byId('reviews');
  section.dataset.loaded = String(byId('review-rows').children.length);
  section.hidden = false;
}

// ---- one review ----

let current: string | undefined;
let lastReport: { review: ReviewView; rows: ReportRow[]; decided: Map<string, DecisionView> } | undefined;

function decisionCell(review: ReviewView, row: ReportRow, staged: DecisionView | undefined): HTMLElement {
  if (row.decision !== null)
    return h(
      'td',
      { class: 'decided', 'data-decision': row.decision },
      h('strong', {}, row.decision),
      `: ${row.reason ?? ''} — ${row.reviewer ?? '?'}, ${row.decidedAt ?? ''}`,
    );
  if (staged)
    return h(
      'td',
      { class: 'decided', 'data-decision': staged.decision },
      h('strong', {}, staged.decision),
      `: ${staged.reason} — ${staged.by}, ${staged.at}${staged.pending ? ' (pending: being recorded)' : ''}`,
    );
  if (review.status !== 'open') return h('td', { class: 'status-bad', 'data-decision': '' }, 'undecided');
  const decision = h('select', { class: 'decision' }, ...DECISIONS.map((d) => h('option', { value: d }, d)));
  const reason = h('input', {
    type: 'text',
    class: 'reason',
    size: 28,
    maxlength: 1000,
    placeholder: 'reason (ticket, why)',
  });
  const decide = h('button', { type: 'button', class: 'decide' }, 'Decide');
  decide.addEventListener('click', () =>
    guarded(async () => {
      try {
        // `revoke` revokes the principal's key before the API answers (docs/access.md).
        await api('POST', `/v1/admin/access-reviews/${enc(review.id)}/decisions`, {
          body: { principalId: row.principalId, decision: decision.value, reason: reason.value },
        });
      } catch (e) {
        // Refused: show the review as it now is (e.g. the decision that won), then the refusal.
        if (e instanceof ApiError && e.status === 409) await showReview(review.id).catch(() => {});
        throw e;
      }
      await showReview(review.id);
    }),
  );
  return h('td', { 'data-decision': '' }, h('div', { class: 'inline' }, decision, reason, decide));
}

function renderItems(): void {
  if (!lastReport) return;
  const { review, rows, decided } = lastReport;
  const flaggedOnly = byId<HTMLInputElement>('flagged-only').checked;
  const shown = rows.filter((r) => !flaggedOnly || r.flags.length > 0);
  fill(
    byId('item-rows'),
    ...shown.map((r) =>
      h(
        'tr',
        { 'data-principal': r.principalId, 'data-flags': r.flags.join(' ') },
        h('td', { title: r.name }, r.principalId),
        h('td', {}, r.kind),
        h('td', {}, r.owner),
        h('td', {}, r.status),
        h('td', {}, r.roles.join(', ')),
        h('td', { class: r.flags.length ? 'status-bad' : '' }, r.flags.join(', ')),
        h('td', { class: 'num' }, r.keyAgeDays === null ? '—' : `${r.keyAgeDays} d`),
        h('td', {}, r.lastUsedAt ?? 'never'),
        decisionCell(review, r, decided.get(r.principalId)),
      ),
    ),
  );
  const count = byId('item-count');
  const undecided = rows.filter((r) => r.decision === null && !decided.has(r.principalId)).length;
  count.dataset.shown = String(shown.length);
  count.dataset.undecided = String(undecided);
  count.textContent = `${shown.length} of ${rows.length} principals shown; ${undecided} undecided.`;
}

async function showReview(id: string): Promise<void> {
  const [shown, report] = await Promise.all([
    api('GET', `/v1/admin/access-reviews/${enc(id)}`) as Promise<{
      review: ReviewView;
      decisions: DecisionView[];
    }>,
    api('GET', `/v1/admin/access-reviews/${enc(id)}/report`) as Promise<Report>,
  ]);
  current = id;
  const review = shown.review;
  lastReport = {
    review,
    rows: [...report.items].sort(
      (a, b) => b.flags.length - a.flags.length || a.principalId.localeCompare(b.principalId),
    ),
    decided: new Map(shown.decisions.map((d) => [d.principalId, d])),
  };
  byId('review-title').textContent = `Review ${review.name}`;
  fill(
    byId('review-facts'),
    facts([
      ['Id', h('code', {}, review.id)],
      ['Status', review.status],
      ['Started', `${review.startedAt} by ${review.startedBy}`],
      ['Principals in the snapshot', String(review.items)],
      ['Closed', review.closedAt ? `${review.closedAt} by ${review.closedBy ?? '?'}` : 'no'],
    ]),
  );
  fill(
    byId('report-problems'),
    report.problems.length
      ? h(
          'div',
          { class: 'error' },
          h('strong', {}, 'The system log records of this review have problems:'),
          h('ul', {}, ...report.problems.map((p) => h('li', {}, `record ${p.index}: ${p.problem}`))),
        )
      : null,
  );
  byId<HTMLButtonElement>('close-review').hidden = review.status !== 'open';
  const section = byId('review');
  section.dataset.review = review.id;
  section.dataset.status = review.status;
  section.hidden = false;
  renderItems();
}

async function downloadCsv(): Promise<void> {
  if (!current) return;
  const blob = (await api('GET', `/v1/admin/access-reviews/${enc(current)}/report`, {
    query: { format: 'csv' },
    blob: true,
  })) as Blob;
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: `access-review-${current}.csv`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken the blob by now; the URL need not outlive this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

// ---- wiring ----

async function connected(): Promise<void> {
  await loadReviews(false);
}

byId('connect-form').addEventListener('submit', (e) => {
  e.preventDefault();
  session.save(byId<HTMLInputElement>('api-key').value.trim(), session.logs());
  void guarded(connected);
});
byId('forget').addEventListener('click', () => {
  session.clear();
  location.reload();
});
byId('start-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void guarded(async () => {
    const started = (await api('POST', '/v1/admin/access-reviews', {
      body: { name: byId<HTMLInputElement>('start-name').value.trim() },
    })) as { review: ReviewView };
    await loadReviews(false);
    await showReview(started.review.id);
  });
});
byId('more-reviews').addEventListener('click', () => void guarded(() => loadReviews(true)));
byId('flagged-only').addEventListener('change', renderItems);
byId('download-csv').addEventListener('click', () => void guarded(downloadCsv));
byId('close-review').addEventListener('click', () =>
  guarded(async () => {
    if (!current) return;
    await api('POST', `/v1/admin/access-reviews/${enc(current)}/close`, { body: {} });
    await Promise.all([showReview(current), loadReviews(false)]);
  }),
);

if (session.key()) {
  byId<HTMLInputElement>('api-key').value = session.key();
  void guarded(connected);
}
document.body.dataset.ready = '1';
