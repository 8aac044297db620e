/**
 * The pkijs crypto engine, built from the platform's WebCrypto
 * (`globalThis.crypto`: Node >= 19, Lambda, browsers). The core never imports
 * Node's crypto module for signatures, so the verifier runs unchanged in a browser.
 *
 * We pass this engine explicitly to every pkijs call that verifies or signs,
 * and also register it with `setEngine` for the few pkijs paths that consult
 * the global engine. Registering is idempotent and uses the same WebCrypto.
 */
import { CryptoEngine, setEngine } from 'pkijs';

let cached: CryptoEngine | undefined;

export function cryptoEngine(): CryptoEngine {
  if (cached) return cached;
  const webcrypto = (globalThis as { crypto?: Crypto }).crypto;
  if (!webcrypto?.subtle) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available');
  cached = new CryptoEngine({ name: 'anchorlog-webcrypto', crypto: webcrypto });
  setEngine('anchorlog-webcrypto', cached);
  return cached;
}
