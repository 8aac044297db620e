/**
 * The rule store as the evaluation job's RuleSource (the port of the
 * evaluation slice, docs/detection.md "Plan of the later slices", 2:
 * `enabledRules(logId)`, rejecting only with the port's error class, which
 * the composition passes in as `errors`, as adapters pass theirs to
 * DynamoTable):
 * the enabled rules among the versions in effect that the `system` log backs
 * (RuleService.boundRules, docs/detection.md "Binding"). A version the log
 * does not back is left out and reported to `onUnbound` (alarm on it), so a
 * rule written around the admin API never runs.
 *
 * One load serves every log (the engine applies each rule's `logs` itself)
 * for `ttlMs` (default 30 s), so a detection run over many logs reads the
 * store once, and a rule change takes effect at the latest `ttlMs` after it
 * was promoted, at a chunk boundary (docs/detection.md "Guarantees", 3).
 */
import type { RuleDocument } from '../core/detect/rule.ts';
import type { Clock } from '../ports/clock.ts';
import { AppError } from './errors.ts';
import type { RuleService, UnboundRule } from './rules.ts';

/** The codes a rule source rejects with: pushback, a transient failure, everything an operator must see. */
export type RuleSourceFailure = 'THROTTLED' | 'UNAVAILABLE' | 'INTEGRITY';

export interface StoredRuleSourceDeps {
  rules: Pick<RuleService, 'boundRules'>;
  clock: Clock;
  /** The port's error class (RuleSourceError): what every failure becomes. */
  errors: new (
    code: RuleSourceFailure,
    message: string,
    options?: { cause?: unknown },
  ) => Error;
  /** How long one load is served. Default 30 s; 0 loads on every call. */
  ttlMs?: number;
  /** Called with the versions left out on every load that finds any. */
  onUnbound?: (unbound: readonly UnboundRule[]) => void;
}

const DEFAULT_TTL_MS = 30_000;

export class StoredRuleSource {
  readonly #deps: StoredRuleSourceDeps;
  #cached: { at: number; rules: readonly RuleDocument[] } | undefined;
  #loading: Promise<readonly RuleDocument[]> | undefined;

  constructor(deps: StoredRuleSourceDeps) {
    this.#deps = deps;
  }

  async enabledRules(_logId: string): Promise<readonly RuleDocument[]> {
    const now = this.#deps.clock.now();
    const c = this.#cached;
    if (c && now - c.at < (this.#deps.ttlMs ?? DEFAULT_TTL_MS)) return c.rules;
    // Concurrent callers (logs evaluated in parallel) share one load.
    this.#loading ??= this.#load(now).finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(now: number): Promise<readonly RuleDocument[]> {
    let loaded: Awaited<ReturnType<RuleService['boundRules']>>;
    try {
      loaded = await this.#deps.rules.boundRules();
    } catch (err) {
      throw sourceError(err, this.#deps.errors);
    }
    if (loaded.unbound.length > 0) this.#deps.onUnbound?.(loaded.unbound);
    const rules = loaded.rules.filter((d) => d.enabled);
    this.#cached = { at: now, rules };
    return rules;
  }
}

/** The port allows three codes: pushback, a transient failure, and everything an operator must look at. */
function sourceError(err: unknown, errors: StoredRuleSourceDeps['errors']): Error {
  const code = err instanceof AppError ? err.code : undefined;
  const mapped: RuleSourceFailure =
    code === 'THROTTLED' ? 'THROTTLED' : code === 'UNAVAILABLE' ? 'UNAVAILABLE' : 'INTEGRITY';
  const message = err instanceof Error ? err.message : String(err);
  return new errors(mapped, `rule store: ${message}`, { cause: err });
}
