/**
 * Exit codes of the CLI (README "Exit codes"), in a module of their own with
 * no imports so the browser console (console/, docs/console.md) shows the same
 * exit meaning as `anchorlog verify` without pulling in Node's file APIs.
 */

/** Everything checked and proved (against pinned trust, for commands that verify). */
export const EXIT_OK = 0;
/** A check failed, or the API did. */
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
/** Verified, but not against pinned trust (verdict.ts). */
export const EXIT_UNTRUSTED = 3;
/** Verified against pinned trust, but completeness not proved (verdict.ts). */
export const EXIT_INCOMPLETE = 4;
