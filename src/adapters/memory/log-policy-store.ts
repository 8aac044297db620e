/**
 * LogPolicyStore in memory (src/ports/log-policy-store.ts), with the
 * semantics of src/adapters/aws/dynamo-log-policy-store.ts. Reads and writes
 * are copies. THROTTLED and UNAVAILABLE come only from injected faults.
 */
import type { LogPolicyRecord } from '../../core/log-policy.ts';
import {
  type LogPolicyStore,
  LogPolicyStoreError,
  type LogPolicyStoreErrorCode,
} from '../../ports/log-policy-store.ts';
import { FaultPlan } from './faults.ts';

export class MemoryLogPolicyStore implements LogPolicyStore {
  readonly #policies = new Map<string, LogPolicyRecord>();
  readonly faults = new FaultPlan<LogPolicyStoreErrorCode>(
    (code, message) => new LogPolicyStoreError(code, message),
  );

  get(logId: string): Promise<LogPolicyRecord | undefined> {
    return this.faults.run('get', logId, () => {
      const p = this.#policies.get(logId);
      return p ? structuredClone(p) : undefined;
    });
  }

  put(record: LogPolicyRecord): Promise<boolean> {
    return this.faults.run('put', record.logId, () => {
      if ((this.#policies.get(record.logId)?.version ?? 0) !== record.version - 1) return false;
      this.#policies.set(record.logId, structuredClone(record));
      return true;
    });
  }
}
