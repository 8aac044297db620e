/**
 * How the operator pages show a failure: the API's stable `code`, its
 * `reason` when it gives one (access reviews: ALREADY_DECIDED,
 * REVIEW_CLOSED, …, docs/access.md §Access reviews), its message and the
 * request id to quote — as text, in the page's #error box, whose
 * `data-code` and `data-reason` the browser tests read.
 */
import { byId, fill, h } from '../dom.ts';
import { ApiError } from './api.ts';

export function showError(e: unknown): void {
  const box = byId('error');
  const err =
    e instanceof ApiError
      ? e
      : new ApiError('CONSOLE_ERROR', e instanceof Error ? e.message : String(e), 0, null);
  box.dataset.code = err.code;
  if (err.reason) box.dataset.reason = err.reason;
  else delete box.dataset.reason;
  fill(
    box,
    h('strong', {}, err.code),
    err.reason ? h('strong', {}, ` ${err.reason}`) : null,
    `: ${err.message}`,
    err.requestId ? h('span', { class: 'mono' }, ` (request ${err.requestId})`) : null,
  );
  box.hidden = false;
}

/** Runs `f`, showing any error; clears the previous one first. */
export async function guarded(f: () => Promise<void>): Promise<void> {
  const box = byId('error');
  box.hidden = true;
  delete box.dataset.code;
  delete box.dataset.reason;
  try {
    await f();
  } catch (e) {
    showError(e);
  }
}
