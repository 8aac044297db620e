/**
 * DER SubjectPublicKeyInfo ↔ PEM `PUBLIC KEY` (RFC 7468 §13), so the same key
 * can be handed to `openssl dgst -verify` and to note verifiers. PEM itself is
 * ../pem.ts; this adds the SPKI shape check and NoteError codes.
 */
import { decodeOnePem, encodePem } from '../pem.ts';
import { isDerSequence } from './der.ts';
import { NoteError } from './errors.ts';

export function spkiToPem(spki: Uint8Array): string {
  if (!isDerSequence(spki)) throw new NoteError('MALFORMED_PUBLIC_KEY', 'SPKI is not one DER SEQUENCE');
  return encodePem('PUBLIC KEY', spki);
}

/**
 * Strict RFC 7468 parse: exactly one PUBLIC KEY block, nothing but whitespace
 * around it, canonical base64 inside (line breaks allowed, CRLF tolerated).
 */
export function pemToSpki(pem: string): Uint8Array {
  let der: Uint8Array;
  try {
    der = decodeOnePem(pem, 'PUBLIC KEY');
  } catch (cause) {
    throw new NoteError('MALFORMED_PEM', cause instanceof Error ? cause.message : 'malformed PEM', { cause });
  }
  if (!isDerSequence(der)) throw new NoteError('MALFORMED_PEM', 'PEM body is not one DER SEQUENCE');
  return der;
}
