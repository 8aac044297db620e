/**
 * Every port's contract suite against the in-memory adapters
 * (src/adapters/memory/). test/contracts/aws.test.ts runs the same suites
 * against the AWS adapters; a difference is a bug in whichever is wrong.
 */
import { MemoryAnchorStore } from '../../src/adapters/memory/anchor-store.ts';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { MemoryExportStore } from '../../src/adapters/memory/export-store.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryPrincipalStore } from '../../src/adapters/memory/principal-store.ts';
import { MemoryQueryIndex } from '../../src/adapters/memory/query-index.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import { anchorStoreContract } from './anchor-store.contract.ts';
import { archiveStoreContract } from './archive-store.contract.ts';
import { exportStoreContract } from './export-store.contract.ts';
import { logStoreContract } from './log-store.contract.ts';
import { principalStoreContract } from './principal-store.contract.ts';
import { queryIndexContract } from './query-index.contract.ts';
import { sealStateContract } from './seal-state.contract.ts';

logStoreContract('MemoryLogStore', async () => new MemoryLogStore());
sealStateContract('MemorySealStateStore', async () => new MemorySealStateStore());
anchorStoreContract('MemoryAnchorStore', async () => {
  const store = new MemoryAnchorStore();
  return { store, anchoredSizes: store.anchoredSizes };
});
queryIndexContract('MemoryQueryIndex', async () => new MemoryQueryIndex());
principalStoreContract('MemoryPrincipalStore', async () => ({
  store: new MemoryPrincipalStore(),
  empty: async () => new MemoryPrincipalStore(),
}));
archiveStoreContract('MemoryArchiveStore', async () => {
  const store = new MemoryArchiveStore({ retentionDays: 400 });
  return {
    store,
    versionCount: async (key) => store.versions(key).length,
    download: async (url) => store.resolve(url),
  };
});
exportStoreContract('MemoryExportStore', async () => {
  const store = new MemoryExportStore();
  return { store, download: async (url) => store.resolve(url) };
});
