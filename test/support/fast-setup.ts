// The fast tier reaches no network: a name lookup for anything but this
// machine fails with a message saying which tier the test is in (the AWS
// SDK, fetch and the TSA client all resolve names first). Installed once per
// worker: files share a worker's modules in this tier (isolate: false).
import dns from 'node:dns';
import { requireHarness } from './tier.ts';

const LOCAL = new Set(['localhost', '127.0.0.1', '::1']);
const GUARDED = Symbol.for('anchorlog.fastTier.dnsGuard');

function guard(hostname: unknown): void {
  if (typeof hostname === 'string' && !LOCAL.has(hostname))
    requireHarness(`The network (looking up ${hostname})`);
}

const state = globalThis as { [GUARDED]?: true };
if (!state[GUARDED]) {
  state[GUARDED] = true;
  const lookup = dns.lookup as (...a: unknown[]) => unknown;
  dns.lookup = ((hostname: unknown, ...rest: unknown[]) => {
    guard(hostname);
    return lookup(hostname, ...rest);
  }) as typeof dns.lookup;
  const lookupPromise = dns.promises.lookup as (...a: unknown[]) => unknown;
  dns.promises.lookup = ((hostname: unknown, ...rest: unknown[]) => {
    guard(hostname);
    return lookupPromise(hostname, ...rest);
  }) as typeof dns.promises.lookup;
}
