/**
 * The OpenSSL RFC 3161 TSAs the global setup runs (test/support/global-setup.ts):
 * for tests of interoperability with real OpenSSL tokens. Tests of anything
 * else use the in-process TSA (src/adapters/memory/timestamper.ts).
 */
import { inject } from 'vitest';
import { requireHarness } from './tier.ts';

export function harnessTsas() {
  requireHarness('The OpenSSL TSAs');
  return inject('tsa');
}
