/**
 * Starts what the tests drive for real, once per run:
 *  - one moto_server per vitest worker slot (files in a slot run one at a
 *    time, so each file can reset "its" emulator without disturbing others);
 *  - two OpenSSL RFC 3161 TSAs: ECDSA with ESSCertIDv2 and RSA with ESSCertID v1.
 * Everything is stopped in teardown; moto processes are also killed by an
 * exit hook if the run dies, so none outlive the suite.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type MotoServer, startMoto } from '../../src/local/moto.ts';
import { ensureTsaPki } from '../../src/local/tsa/pki.ts';
import { type LocalTsa, startLocalTsa } from '../../src/local/tsa/server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoints: string[];
    tsa: {
      ecdsa: { url: string; rootCertPath: string; tsaCertPath: string; essCertId: 'v1' | 'v2' };
      rsa: { url: string; rootCertPath: string; tsaCertPath: string; essCertId: 'v1' | 'v2' };
      pkiDir: string;
    };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const workers = Math.max(1, Number(project.config.maxWorkers) || 1);
  const motos: MotoServer[] = await Promise.all(Array.from({ length: workers }, () => startMoto()));
  const root = new URL('../..', import.meta.url).pathname;
  const pkiDir = join(root, '.anchorlog', 'test-tsa');
  mkdirSync(pkiDir, { recursive: true });
  const tsas: LocalTsa[] = await Promise.all(
    (['ecdsa', 'rsa'] as const).map((f) => startLocalTsa(ensureTsaPki(pkiDir, f))),
  );
  const [ecdsa, rsa] = tsas as [LocalTsa, LocalTsa];
  const describe = (t: LocalTsa) => ({
    url: t.url,
    rootCertPath: t.pki.rootCertPath,
    tsaCertPath: t.pki.tsaCertPath,
    essCertId: t.pki.essCertId,
  });
  project.provide(
    'motoEndpoints',
    motos.map((m) => m.endpoint),
  );
  project.provide('tsa', { ecdsa: describe(ecdsa), rsa: describe(rsa), pkiDir });
  return async () => {
    await Promise.all([...motos.map((m) => m.stop()), ...tsas.map((t) => t.close())]);
  };
}
