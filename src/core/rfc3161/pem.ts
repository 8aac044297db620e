/**
 * PEM (RFC 7468) decoding for certificates and tokens. Lax about whitespace and
 * explanatory text between blocks (as OpenSSL is), strict about the base64
 * inside a block.
 */
import { fromBase64 } from '../bytes.ts';
import { TimestampError } from './errors.ts';

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

export function looksLikePem(bytes: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  return head.includes('-----BEGIN ');
}

/** Every PEM block in `text`, in order. Throws MALFORMED on a damaged block. */
export function decodePem(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] as string;
    // Drop RFC 1421 headers ("Proc-Type: …") if any, then all whitespace.
    const body = (m[2] as string)
      .split(/\r?\n/)
      .filter((l) => !l.includes(':'))
      .join('')
      .replace(/\s+/g, '');
    try {
      out.push({ label, der: fromBase64(body) });
    } catch (e) {
      throw new TimestampError('MALFORMED', `PEM block ${label}: bad base64`, { cause: e });
    }
  }
  return out;
}

/** Certificates from PEM text (CERTIFICATE and legacy X509 CERTIFICATE blocks; other blocks are ignored). */
export function decodePemCertificates(text: string): Uint8Array[] {
  return decodePem(text)
    .filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE')
    .map((b) => b.der);
}
