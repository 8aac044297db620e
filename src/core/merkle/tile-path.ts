/**
 * C2SP tlog-tiles resource paths (https://c2sp.org/tlog-tiles, "Merkle Tree" and
 * "Log entries"):
 *   tile/<L>/<N>[.p/<W>]        hash tiles
 *   tile/entries/<N>[.p/<W>]    entry bundles
 * <N> is split into zero-padded 3-digit elements, all but the last prefixed with
 * `x` (1234067 → x001/x234/067); `.p/<W>` appears only for partial tiles
 * (1 ≤ W ≤ 255). Parsing accepts only the canonical form: the read API maps
 * attacker-supplied URLs onto storage keys with it, so two spellings must never
 * name the same object.
 */
import { MerkleError } from './errors.ts';
import { assertSafeUint, parseSafeUint } from './numbers.ts';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** Highest tile level allowed by the spec. */
export const MAX_TILE_LEVEL = 63;

/** A hash tile (level ≥ 0) or, with `level: 'entries'`, an entry bundle. */
export interface TileCoord {
  readonly level: number;
  readonly index: number;
  /** Number of hashes/entries, 1..256; 256 is a full tile. */
  readonly width: number;
}

export interface ParsedTilePath {
  readonly kind: 'hash' | 'entries';
  /** Tile level (0 for entry bundles). */
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

function assertWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new MerkleError('BAD_TILE', `tile width must be 1..${TILE_WIDTH}, got ${width}`);
  }
}

/** "x001/x234/067" for 1234067. */
export function encodeTileIndex(index: number): string {
  assertSafeUint(index, 'tile index', 'BAD_TILE');
  let digits = String(index);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const parts: string[] = [];
  for (let i = 0; i < digits.length; i += 3) parts.push(digits.slice(i, i + 3));
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}

function suffix(width: number): string {
  assertWidth(width);
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

export function tilePath(level: number, index: number, width: number = TILE_WIDTH): string {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) {
    throw new MerkleError('BAD_TILE', `tile level must be 0..${MAX_TILE_LEVEL}, got ${level}`);
  }
  return `tile/${level}/${encodeTileIndex(index)}${suffix(width)}`;
}

export function entryBundlePath(index: number, width: number = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(index)}${suffix(width)}`;
}

const PATH_RE = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses an untrusted tile/bundle path (relative to the log prefix). Rejects
 * non-canonical index encodings (e.g. a leading x000 element), levels > 63,
 * widths outside 1..255 and indexes above 2^53 − 1.
 */
export function parseTilePath(path: string): ParsedTilePath {
  if (path.length > 200) throw new MerkleError('BAD_TILE_PATH', 'path too long');
  const m = PATH_RE.exec(path);
  if (m === null) throw new MerkleError('BAD_TILE_PATH', 'not a tlog-tiles path');
  const [, levelText, prefix, last, widthText] = m as unknown as [string, string, string, string, string?];
  const elems = prefix === '' ? [] : prefix.slice(0, -1).split('/');
  if (elems.length > 0 && elems[0] === 'x000')
    throw new MerkleError('BAD_TILE_PATH', 'non-canonical tile index');
  const digits = elems.map((e) => e.slice(1)).join('') + last;
  const index = parseSafeUint(digits.replace(/^0+(?=.)/, ''), 'tile index', 'BAD_TILE_PATH');
  let width = TILE_WIDTH;
  if (widthText !== undefined) {
    width = Number(widthText);
    if (width >= TILE_WIDTH) throw new MerkleError('BAD_TILE_PATH', 'partial width must be 1..255');
  }
  if (levelText === 'entries') return { kind: 'entries', level: 0, index, width };
  const level = Number(levelText);
  if (level > MAX_TILE_LEVEL) throw new MerkleError('BAD_TILE_PATH', 'tile level must be 0..63');
  return { kind: 'hash', level, index, width };
}
