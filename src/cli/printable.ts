/**
 * Everything the CLI prints that came from outside — a bundle (TSA names,
 * origins, filter values, error messages quoting records), a time-stamp token,
 * an API response — goes through here before it reaches a terminal.
 *
 * Such text can carry ESC/CSI/OSC sequences (repaint the screen, retitle the
 * window, hide text), a CR or newline that overwrites "FAILED" with a forged
 * "OK" line, and bidi or zero-width characters that make what is shown differ
 * from what is there. Every control (Unicode Cc: C0, DEL, C1), format
 * character (Cf: bidi controls, zero-width, tags), line/paragraph separator
 * and lone surrogate is replaced by its `\uXXXX` escape, one per UTF-16 code
 * unit — so the result shows what the bytes are, stays on one line, and is
 * also a valid escape inside a JSON string (printableJson relies on that).
 * Everything else, non-ASCII letters included, is left as it is.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
/** The same, but the newlines of our own JSON layout stay (JSON strings never hold a raw newline). */
const UNPRINTABLE_BUT_NEWLINE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

const toEscapes = (ch: string): string => {
  let out = '';
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
};

/** One line of text safe for a terminal: every unprintable code point escaped, newlines included. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, toEscapes);
}

/** Lines of a report, each made printable, joined and ended with a newline. */
export function printableLines(lines: readonly string[]): string {
  return `${lines.map(printable).join('\n')}\n`;
}

/**
 * `value` as JSON (pretty with `space`) plus a newline, with the characters
 * JSON.stringify leaves raw (DEL, C1, bidi and other format characters,
 * U+2028/2029) escaped too. It parses to exactly the same value.
 */
export function printableJson(value: unknown, space?: number): string {
  return `${JSON.stringify(value, null, space).replace(UNPRINTABLE_BUT_NEWLINE, toEscapes)}\n`;
}
