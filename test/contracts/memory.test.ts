/**
 * Every port's contract suite against the in-memory adapters
 * (src/adapters/memory/). test/contracts/aws.test.ts runs the same suites
 * against the AWS adapters; a difference is a bug in whichever is wrong.
 */
import { MemoryAccessReviewStore } from '../../src/adapters/memory/access-review-store.ts';
import { MemoryAlertReviewStore } from '../../src/adapters/memory/alert-review-store.ts';
import { MemoryAnchorStore } from '../../src/adapters/memory/anchor-store.ts';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryColumnarIndex } from '../../src/adapters/memory/columnar-index.ts';
import { MemoryDeliveryStore } from '../../src/adapters/memory/delivery-store.ts';
import { MemoryDetectionStateStore } from '../../src/adapters/memory/detection-state.ts';
import { MemoryExportStore } from '../../src/adapters/memory/export-store.ts';
import { MemoryHealthOutbox } from '../../src/adapters/memory/health-outbox.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryLogPolicyStore } from '../../src/adapters/memory/log-policy-store.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemoryNotifier } from '../../src/adapters/memory/notifier.ts';
import { MemoryPendingStore } from '../../src/adapters/memory/pending-store.ts';
import { MemoryPrincipalStore } from '../../src/adapters/memory/principal-store.ts';
import { MemoryProducerKeyStore } from '../../src/adapters/memory/producer-key-store.ts';
import { MemoryProducerStore } from '../../src/adapters/memory/producer-store.ts';
import { MemoryQueryIndex } from '../../src/adapters/memory/query-index.ts';
import { MemoryRekor } from '../../src/adapters/memory/rekor.ts';
import { MemoryRoleStore } from '../../src/adapters/memory/role-store.ts';
import { StaticRuleSource } from '../../src/adapters/memory/rule-source.ts';
import { MemoryRuleStore } from '../../src/adapters/memory/rule-store.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import { MemorySecretSource } from '../../src/adapters/memory/secret-source.ts';
import { MemoryStreamSink } from '../../src/adapters/memory/stream-sink.ts';
import { MemoryStreamStore } from '../../src/adapters/memory/stream-store.ts';
import { MemoryTimestamper } from '../../src/adapters/memory/timestamper.ts';
import { MemoryWitness } from '../../src/adapters/memory/witness.ts';
import { MemoryWitnessLedgerStore } from '../../src/adapters/memory/witness-ledger-store.ts';
import { MemoryWitnessStateStore } from '../../src/adapters/memory/witness-state.ts';
import { verifierFromSpki } from '../../src/core/note/verifiers.ts';
import { systemClock } from '../../src/ports/clock.ts';
import { seed, testLog } from '../core/witness/support.ts';
import { accessReviewStoreContract } from './access-review-store.contract.ts';
import { alertReviewStoreContract } from './alert-review-store.contract.ts';
import { anchorStoreContract } from './anchor-store.contract.ts';
import { archiveStoreContract } from './archive-store.contract.ts';
import { clockContract } from './clock.contract.ts';
import { columnarIndexContract } from './columnar-index.contract.ts';
import { deliveryStoreContract } from './delivery-store.contract.ts';
import { detectionStateContract } from './detection-state.contract.ts';
import { exportStoreContract } from './export-store.contract.ts';
import { healthOutboxContract } from './health-outbox.contract.ts';
import { logPolicyStoreContract } from './log-policy-store.contract.ts';
import { logStoreContract } from './log-store.contract.ts';
import { metricsContract } from './metrics.contract.ts';
import { notifierContract } from './notifier.contract.ts';
import { pendingStoreContract } from './pending-store.contract.ts';
import { principalStoreContract } from './principal-store.contract.ts';
import { producerKeyStoreContract } from './producer-key-store.contract.ts';
import { producerStoreContract } from './producer-store.contract.ts';
import { queryIndexContract } from './query-index.contract.ts';
import { rekorContract } from './rekor.contract.ts';
import { roleStoreContract } from './role-store.contract.ts';
import { ruleSourceContract } from './rule-source.contract.ts';
import { ruleStoreContract } from './rule-store.contract.ts';
import { sealStateContract } from './seal-state.contract.ts';
import { secretSourceContract } from './secret-source.contract.ts';
import { SIGNER_CONTRACT_ORIGIN, signerContract } from './signer.contract.ts';
import { streamSinkContract } from './stream-sink.contract.ts';
import { streamStoreContract } from './stream-store.contract.ts';
import { timestamperContract } from './timestamper.contract.ts';
import { witnessContract } from './witness.contract.ts';
import { witnessLedgerStoreContract } from './witness-ledger-store.contract.ts';
import { witnessStateContract } from './witness-state.contract.ts';

logStoreContract('MemoryLogStore', async () => new MemoryLogStore());
pendingStoreContract('MemoryPendingStore', async () => new MemoryPendingStore());
sealStateContract('MemorySealStateStore', async () => new MemorySealStateStore());
producerStoreContract('MemoryProducerStore', async () => new MemoryProducerStore());
producerKeyStoreContract('MemoryProducerKeyStore', async () => new MemoryProducerKeyStore());
logPolicyStoreContract('MemoryLogPolicyStore', async () => new MemoryLogPolicyStore());
anchorStoreContract('MemoryAnchorStore', async () => {
  const store = new MemoryAnchorStore();
  return { store, anchoredSizes: store.anchoredSizes };
});
queryIndexContract('MemoryQueryIndex', async () => new MemoryQueryIndex());
columnarIndexContract('MemoryColumnarIndex', async () => new MemoryColumnarIndex());
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
signerContract('LocalNoteSigner', async () => LocalNoteSigner.generate(SIGNER_CONTRACT_ORIGIN));
secretSourceContract('MemorySecretSource', async () => {
  const source = new MemorySecretSource();
  return {
    source,
    put: async (name, value) => source.put(name, value),
    putBinary: async (name, value) => {
      source.putBinary(name, value);
    },
    remove: async (name) => source.remove(name),
  };
});
for (const keyAlgorithm of ['ecdsa', 'rsa'] as const)
  timestamperContract(`MemoryTimestamper (${keyAlgorithm})`, async () => {
    const timestamper = await MemoryTimestamper.create('contract-tsa', { keyAlgorithm });
    return { timestamper, rootsPem: timestamper.rootsPem };
  });
clockContract('ManualClock', () => new ManualClock({ startMs: Date.UTC(2026, 0, 1), stepMs: 1 }));
metricsContract('MemoryMetricsSink', async () => {
  const sink = new MemoryMetricsSink();
  return { sink, emitted: () => sink.emissions };
});

detectionStateContract('MemoryDetectionStateStore', async () => new MemoryDetectionStateStore());
accessReviewStoreContract('MemoryAccessReviewStore', async () => ({
  store: new MemoryAccessReviewStore(),
  empty: async () => new MemoryAccessReviewStore(),
}));

alertReviewStoreContract('MemoryAlertReviewStore', async () => ({
  store: new MemoryAlertReviewStore(),
  empty: async () => new MemoryAlertReviewStore(),
}));
ruleStoreContract('MemoryRuleStore', async () => ({
  store: new MemoryRuleStore(),
  empty: async () => new MemoryRuleStore(),
}));
roleStoreContract('MemoryRoleStore', async () => ({
  store: new MemoryRoleStore(),
  empty: async () => new MemoryRoleStore(),
}));
ruleSourceContract('StaticRuleSource', async (documents) => new StaticRuleSource(documents));
deliveryStoreContract('MemoryDeliveryStore', async () => new MemoryDeliveryStore());
healthOutboxContract('MemoryHealthOutbox', async () => new MemoryHealthOutbox());
notifierContract('MemoryNotifier', {
  async make() {
    const notifier = new MemoryNotifier('soc');
    return {
      notifier,
      received: async () => notifier.ids,
      refuse(status) {
        notifier.answer = () => ({
          ok: false,
          code: 'HTTP_STATUS',
          message: `answered ${status}`,
          status,
          retryable: status >= 500,
        });
      },
    };
  },
  async unreachable() {
    const notifier = new MemoryNotifier('gone');
    notifier.answer = () => ({ ok: false, code: 'NETWORK', message: 'connection refused', retryable: true });
    return notifier;
  },
});

witnessStateContract('MemoryWitnessStateStore', async () => new MemoryWitnessStateStore());
witnessLedgerStoreContract('MemoryWitnessLedgerStore', async () => new MemoryWitnessLedgerStore());
witnessContract('MemoryWitness', async () => {
  const log = testLog('witness-contract.test/memory');
  const witness = new MemoryWitness({
    name: 'contract-witness',
    keyName: 'witness.contract.test',
    secretKey: seed(11),
    logs: new Map([[log.origin, [log.verifier]]]),
    clock: systemClock,
  });
  return { witness, log };
});

rekorContract('MemoryRekor', async () => {
  const signer = LocalNoteSigner.generate('rekor.contract.test', 'ed25519');
  return {
    rekor: new MemoryRekor('contract-rekor', signer),
    logKey: verifierFromSpki(signer.keyName, signer.publicKeySpki),
  };
});

streamStoreContract('MemoryStreamStore', async () => new MemoryStreamStore());
streamSinkContract('MemoryStreamSink', async () => {
  const sink = new MemoryStreamSink('s');
  const refusing = new MemoryStreamSink('s');
  refusing.answer = () => ({
    ok: false,
    code: 'HTTP_STATUS',
    message: 'HTTP 503',
    status: 503,
    retryable: true,
  });
  return {
    sink,
    refusing,
    body: () => new Uint8Array(),
    held: async () => sink.taken.flatMap((t) => t.chunk.docs.map((d) => d.index)),
  };
});
