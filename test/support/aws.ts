/**
 * The emulator endpoint for the current test file, and SDK client settings
 * pointing at it. Each vitest worker slot owns one moto_server (see
 * global-setup.ts); per-file-setup.ts resets it before each file.
 */
import { inject } from 'vitest';
import { requireHarness } from './tier.ts';

export function motoEndpoint(): string {
  requireHarness('The AWS emulator (moto)');
  const endpoints = inject('motoEndpoints');
  const slot = Number(process.env.VITEST_POOL_ID ?? '1');
  const endpoint = endpoints[(slot - 1) % endpoints.length];
  if (!endpoint) throw new Error('no moto endpoint provided by global setup');
  return endpoint;
}

/** Settings for any AWS SDK v3 client constructor. */
export function awsClientConfig() {
  return {
    endpoint: motoEndpoint(),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  };
}

export async function resetMoto(): Promise<void> {
  const res = await fetch(`${motoEndpoint()}/moto-api/reset`, { method: 'POST' });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
}
