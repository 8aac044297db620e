/**
 * PEM for certificates and tokens: ../pem.ts's lax decoder (whitespace and
 * explanatory text between blocks tolerated, as OpenSSL does; base64 inside a
 * block strict), with failures as TimestampError('MALFORMED').
 */
import { decodePemBlocks, type PemBlock } from '../pem.ts';
import { TimestampError } from './errors.ts';

export { looksLikePem, type PemBlock } from '../pem.ts';

/** Every PEM block in `text`, in order. Throws MALFORMED on a damaged block. */
export function decodePem(text: string): PemBlock[] {
  try {
    return decodePemBlocks(text);
  } catch (e) {
    throw new TimestampError('MALFORMED', e instanceof Error ? e.message : 'malformed PEM', { cause: e });
  }
}

/** Certificates from PEM text (CERTIFICATE and legacy X509 CERTIFICATE blocks; other blocks are ignored). */
export function decodePemCertificates(text: string): Uint8Array[] {
  return decodePem(text)
    .filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE')
    .map((b) => b.der);
}
