/**
 * The shortfalls of a verified bundle (verdict.ts): what `anchorlog verify`
 * and the browser console (docs/console.md) report short of a full proof, and
 * so their exit meaning. One function for both, so the page cannot disagree
 * with the CLI. No Node imports: it is bundled into the console.
 */
import type { BundleReport } from '../core/bundle/index.ts';
import { incomplete, type Shortfall, untrusted } from './verdict.ts';

/** What the report proves short of everything, in the order a reader needs it. */
export function bundleShortfalls(r: BundleReport): Shortfall[] {
  const out: Shortfall[] = [];
  if (r.trustedBundleKeys)
    out.push(
      untrusted('UNTRUSTED_LOG_KEY', 'the log key was taken from the bundle (keys/log.vkey), not pinned'),
    );
  if (r.trustedBundleTsaRoots)
    out.push(
      untrusted(
        'UNTRUSTED_TSA_ROOTS',
        'the TSA roots were taken from the bundle (anchors/*.chain.pem), not pinned',
      ),
    );
  if (r.mode === 'filtered')
    out.push(
      incomplete(
        'COMPLETENESS_NOT_PROVED',
        `filtered export: nothing shows that every record with ${r.filterText} is present`,
      ),
    );
  else if (r.completeness.end === 'checkpoint-end')
    out.push(
      incomplete(
        'RANGE_NOT_CLOSED',
        `the range ends at the last leaf of checkpoint ${r.checkpoint.size}: records appended after it with receivedAt < ${r.range.toTime} are not covered`,
      ),
    );
  return out;
}
