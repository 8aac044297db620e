/**
 * The class monitor over this deployment's archive (docs/classes.md
 * §Monitor): for every log, recompute the class roots of its latest
 * checkpoint from its records, from the size checked last time (kept in
 * memory for the life of the process). The local stack runs it after every
 * seal; an auditor runs `anchorlog monitor` through the read API instead.
 */
import { S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { type MonitorReport, type MonitorState, monitorLog } from '../core/classes/monitor-run.ts';
import { ecdsaP256Verifier } from '../core/note/verifiers.ts';
import { archiveKey } from '../ports/archive-store.ts';
import type { Services } from './services.ts';

export function classMonitor(
  services: Pick<Services, 'config' | 'clients' | 'logStore'>,
  logPublicKeys: readonly Uint8Array[],
): () => Promise<Array<{ logId: string; report?: MonitorReport; error?: string }>> {
  const { config, clients } = services;
  const archive = new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket });
  const states = new Map<string, MonitorState>();
  return async () => {
    const out: Array<{ logId: string; report?: MonitorReport; error?: string }> = [];
    for (const logId of await services.logStore.listLogs()) {
      const origin = `${config.originPrefix}/${logId}`;
      try {
        const previous = states.get(logId);
        const report = await monitorLog({
          source: {
            checkpoint: async () => (await archive.getCheckpoint(logId))?.text,
            get: (path) => archive.get(archiveKey(logId, path)),
          },
          origin,
          verifiers: logPublicKeys.map((spki) => ecdsaP256Verifier(origin, spki)),
          ...(previous ? { state: previous } : {}),
        });
        states.set(logId, report.state);
        out.push({ logId, report });
      } catch (err) {
        out.push({ logId, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return out;
  };
}
