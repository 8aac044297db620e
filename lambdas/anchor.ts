// Anchor job (EventBridge Scheduler → this Lambda): time-stamp each log's newest
// checkpoint with the configured TSAs. Wiring at module scope: one config read,
// one secret read, one set of SDK clients per container. Failures are reported,
// not thrown: the EMF metrics (AnchorQuorumMissed, AnchorTsaFailure per TSA) carry the alarm,
// and the next scheduled run retries every TSA that has not granted.

import { EmfMetricsSink } from '../src/adapters/metrics/emf-metrics.ts';
import type { AnchorOutcome } from '../src/app/anchor.ts';
import { AppError } from '../src/app/errors.ts';
import { createSecretSource, createServices, loadLogPublicKeys } from '../src/compose.ts';
import { createAnchoring } from '../src/compose-anchor.ts';
import { loadConfig, loadTsaCredentials } from '../src/config.ts';

// TSA credentials come from the secret named by ANCHORLOG_TSA_CREDENTIALS_SECRET,
// read once here at cold start; the environment never holds them.
const base = loadConfig();
const services = createServices({ ...base, tsas: await loadTsaCredentials(base, createSecretSource(base)) });
// What is stamped is the archive's checkpoint once it verifies with the log key (or a retired
// one): GetPublicKey only, once per container.
const { anchor } = createAnchoring(services, {
  metrics: new EmfMetricsSink({ write: (line) => process.stdout.write(line) }),
  logPublicKeys: await loadLogPublicKeys(base, services.clients.kms),
});

export interface AnchorEvent {
  /** Logs to anchor; default every log. */
  logIds?: string[];
}

export interface AnchorResult {
  outcomes: AnchorOutcome[];
  /** Logs whose run could not complete (a store was unavailable); retried next schedule. */
  errors: { logId: string; code: string; message: string }[];
  /** TSAs without a token for their log's newest checkpoint, summed over logs. */
  failures: number;
}

export async function handler(event: AnchorEvent = {}): Promise<AnchorResult> {
  const logIds = event.logIds ?? (await services.logStore.listLogs());
  const result: AnchorResult = { outcomes: [], errors: [], failures: 0 };
  for (const logId of logIds) {
    try {
      const outcome = await anchor.anchorLog(logId);
      result.outcomes.push(outcome);
      result.failures += outcome.failures;
    } catch (err) {
      const e = err as { code?: string; message?: string };
      result.errors.push({ logId, code: e.code ?? 'INTERNAL', message: e.message ?? String(err) });
      console.error(JSON.stringify({ level: 'error', msg: 'anchor run failed', logId, code: e.code }));
    }
  }
  if (result.errors.length > 0) {
    // Make the invocation fail (Lambda Errors metric, async retry): the run is
    // idempotent, and a log we could not even read must not look healthy.
    throw new AppError(
      'UNAVAILABLE',
      `anchor run failed for ${result.errors.map((e) => e.logId).join(', ')}`,
      {
        cause: result,
      },
    );
  }
  return result;
}
