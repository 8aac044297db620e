/**
 * DER SubjectPublicKeyInfo ↔ PEM `PUBLIC KEY` (RFC 7468 §13), so the same key
 * can be handed to `openssl dgst -verify` and to note verifiers.
 */
import { fromBase64, toBase64 } from '../bytes.ts';
import { isDerSequence } from './der.ts';
import { NoteError } from './errors.ts';

const BEGIN = '-----BEGIN PUBLIC KEY-----';
const END = '-----END PUBLIC KEY-----';

export function spkiToPem(spki: Uint8Array): string {
  if (!isDerSequence(spki)) throw new NoteError('MALFORMED_PUBLIC_KEY', 'SPKI is not one DER SEQUENCE');
  const b64 = toBase64(spki);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/**
 * Strict RFC 7468 parse: exactly one PUBLIC KEY block, nothing but whitespace
 * around it, canonical base64 inside (line breaks allowed, CRLF tolerated).
 */
export function pemToSpki(pem: string): Uint8Array {
  const lines = pem.replace(/\r\n/g, '\n').trim().split('\n');
  if (lines.length < 3 || lines[0] !== BEGIN || lines[lines.length - 1] !== END)
    throw new NoteError('MALFORMED_PEM', 'expected one -----BEGIN PUBLIC KEY----- block');
  const body = lines.slice(1, -1).map((l) => l.trim());
  if (body.some((l) => l.length === 0 || l.startsWith('-----')))
    throw new NoteError('MALFORMED_PEM', 'unexpected line in PEM body');
  let der: Uint8Array;
  try {
    der = fromBase64(body.join(''));
  } catch (cause) {
    throw new NoteError('MALFORMED_PEM', 'PEM body is not base64', { cause });
  }
  if (!isDerSequence(der)) throw new NoteError('MALFORMED_PEM', 'PEM body is not one DER SEQUENCE');
  return der;
}
