/**
 * PEM (RFC 7468), once: the encoder every writer uses (archive chains,
 * bundles, `keys/log.pem`, TRUST.json) and the two decoders, lax and strict.
 * Area modules wrap the decoders' EncodingError('INVALID_PEM') into their
 * own codes (src/core/rfc3161/pem.ts, src/core/note/pem.ts).
 *
 * The encoder's output is byte-for-byte what the archive already holds
 * (`anchors/<size>/<tsa>.chain.pem` is written with putImmutable, so a rerun
 * must reproduce it exactly): 64-character lines, LF, a trailing newline.
 */
import { EncodingError, fromBase64, toBase64 } from './bytes.ts';

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

/** RFC 7468 §3 "stricttextualmsg": 64-character base64 lines, LF line ends, a final newline. */
export function encodePem(label: string, der: Uint8Array): string {
  return `-----BEGIN ${label}-----\n${toBase64(der).replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/** Concatenated CERTIFICATE blocks, in order (a chain or a roots file). */
export function encodePemCertificates(ders: readonly Uint8Array[]): string {
  return ders.map((der) => encodePem('CERTIFICATE', der)).join('');
}

export function looksLikePem(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  return head.includes('-----BEGIN ');
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Every PEM block in `text`, in order. Lax about whitespace and explanatory
 * text between blocks (as OpenSSL is) and drops RFC 1421 headers
 * (`Proc-Type: …`); strict about the base64 inside a block.
 */
export function decodePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] as string;
    const body = (m[2] as string)
      .split(/\r?\n/)
      .filter((l) => !l.includes(':'))
      .join('')
      .replace(/\s+/g, '');
    try {
      out.push({ label, der: fromBase64(body) });
    } catch (cause) {
      throw new EncodingError('INVALID_PEM', `PEM block ${label}: bad base64`, { cause });
    }
  }
  return out;
}

/**
 * Strict parse of exactly one block labelled `label`: nothing but whitespace
 * around it, no empty or header lines inside, canonical base64 (line breaks
 * anywhere; CRLF tolerated). For keys an operator pastes into configuration,
 * where anything unexpected is more likely a mistake than a format variant.
 */
export function decodeOnePem(text: string, label: string): Uint8Array {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const lines = text.replace(/\r\n/g, '\n').trim().split('\n');
  if (lines.length < 3 || lines[0] !== begin || lines[lines.length - 1] !== end)
    throw new EncodingError('INVALID_PEM', `expected one ${begin} block`);
  const body = lines.slice(1, -1).map((l) => l.trim());
  if (body.some((l) => l.length === 0 || l.startsWith('-----')))
    throw new EncodingError('INVALID_PEM', 'unexpected line in PEM body');
  try {
    return fromBase64(body.join(''));
  } catch (cause) {
    throw new EncodingError('INVALID_PEM', 'PEM body is not base64', { cause });
  }
}
