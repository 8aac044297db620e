/**
 * Durations in rule documents: a positive integer and one unit, `s`, `m`, `h`
 * or `d` (`90s`, `15m`, `1h`, `7d`), as in Prometheus alerting rules. One
 * unit only, so a duration has one spelling per value and reads at a glance.
 */
const DURATION_RE = /^([1-9][0-9]{0,8})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** The shortest spelling of `ms` (for alert summaries): 3600000 → '1h'. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
