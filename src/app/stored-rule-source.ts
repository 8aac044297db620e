/**
 * The rule store as the evaluation job's RuleSource (src/ports/rule-source.ts):
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
import { type RuleSource, RuleSourceError } from '../ports/rule-source.ts';
import { AppError } from './errors.ts';
import type { RuleService, UnboundRule } from './rules.ts';

export interface StoredRuleSourceDeps {
  rules: Pick<RuleService, 'boundRules'>;
  clock: Clock;
  /** How long one load is served. Default 30 s; 0 loads on every call. */
  ttlMs?: number;
  /** Called with the versions left out on every load that finds any. */
  onUnbound?: (unbound: readonly UnboundRule[]) => void;
}

const DEFAULT_TTL_MS = 30_000;

export class StoredRuleSource implements RuleSource {
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
      throw sourceError(err);
    }
    if (loaded.unbound.length > 0) this.#deps.onUnbound?.(loaded.unbound);
    const rules = loaded.rules.filter((d) => d.enabled);
    this.#cached = { at: now, rules };
    return rules;
  }
}

/** The port allows three codes: pushback, a transient failure, and everything an operator must look at. */
function sourceError(err: unknown): RuleSourceError {
  const code = err instanceof AppError ? err.code : undefined;
  const mapped = code === 'THROTTLED' ? 'THROTTLED' : code === 'UNAVAILABLE' ? 'UNAVAILABLE' : 'INTEGRITY';
  const message = err instanceof Error ? err.message : String(err);
  return new RuleSourceError(mapped, `rule store: ${message}`, { cause: err });
}
