/** Helpers shared by the contract suites. */

let counter = 0;
const run = Math.random().toString(36).slice(2, 8);

/**
 * A name no other test of this run uses (suites share one store per run):
 * letters, digits and '-', so it is a valid log id, principal id and key part.
 */
export function uniqueId(prefix: string): string {
  return `${prefix}-${run}-${++counter}`;
}
