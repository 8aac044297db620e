/**
 * Fault injection for a *real* DynamoDB client (moto locally), in the style of
 * tessera's fault tests: a programmable table of rules decides, per request,
 * whether to
 *   - fail-and-not-persist: throw a throttling / TransactionConflict / 5xx /
 *     timeout error *before* the request is sent, or
 *   - fail-but-persist: send the request, let it succeed, then throw a
 *     timeout — the caller cannot tell the write happened.
 * It is an SDK middleware, so the wrapped object is still a DynamoDBClient and
 * every request that is not faulted runs for real. No call shapes are
 * asserted: tests check what ends up in the table.
 */
import {
  type DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';

export type FaultKind =
  | 'throttle' // ProvisionedThroughputExceededException, not persisted
  | 'throttling' // ThrottlingException, not persisted
  | 'transaction-conflict' // TransactionConflictException, not persisted
  | 'server-error' // 500 InternalServerError, not persisted
  | 'timeout-before' // socket timeout before the request reached the server
  | 'timeout-after'; // the request succeeded, then the caller saw a timeout

export interface FaultRule {
  /** Operation name without "Command": 'GetItem', 'PutItem', 'UpdateItem', 'BatchWriteItem', … */
  op: string;
  /** Narrows the rule; gets the command input. See `itemKind`. */
  match?: (input: Record<string, unknown>) => boolean;
  fault: FaultKind;
  /** Let this many matching requests through before firing (default 0). */
  after?: number;
  /** How many times to fire (default 1; Infinity for always). */
  times?: number;
}

export interface FiredFault {
  op: string;
  kind: string | undefined;
  fault: FaultKind;
}

interface RuleState {
  rule: FaultRule;
  seen: number;
  fired: number;
}

const meta = (status: number) => ({ httpStatusCode: status, requestId: 'injected-fault', attempts: 1 });

function makeError(kind: FaultKind): Error {
  switch (kind) {
    case 'throttle':
      return new ProvisionedThroughputExceededException({
        message: 'injected: throughput exceeded',
        $metadata: meta(400),
      });
    case 'throttling':
      return new ThrottlingException({ message: 'injected: rate exceeded', $metadata: meta(400) });
    case 'transaction-conflict':
      return new TransactionConflictException({
        message: 'injected: transaction conflict',
        $metadata: meta(400),
      });
    case 'server-error':
      return new InternalServerError({ message: 'injected: internal server error', $metadata: meta(500) });
    case 'timeout-before':
    case 'timeout-after':
      return Object.assign(new Error(`injected: socket timed out (${kind})`), { name: 'TimeoutError' });
  }
}

/**
 * The `sk` of the item a request touches ('B', 'HEAD', 'IK', 'E', 'P', 'META',
 * …), or for batch operations the `sk` of the first key — enough to tell the
 * adapter's item families apart in a rule.
 */
export function itemKind(input: Record<string, unknown>): string | undefined {
  type Keyed = { sk?: { S?: string } };
  const direct = (input.Key ?? input.Item) as Keyed | undefined;
  if (direct?.sk?.S) return direct.sk.S;
  const req = input.RequestItems as Record<string, unknown> | undefined;
  if (req) {
    for (const v of Object.values(req)) {
      if (Array.isArray(v)) {
        const first = v[0] as { PutRequest?: { Item?: Keyed }; DeleteRequest?: { Key?: Keyed } } | undefined;
        return first?.PutRequest?.Item?.sk?.S ?? first?.DeleteRequest?.Key?.sk?.S;
      }
      const keys = (v as { Keys?: Keyed[] }).Keys;
      return keys?.[0]?.sk?.S;
    }
  }
  return undefined;
}

export class FaultInjector {
  readonly #rules: RuleState[] = [];
  /** Every fault fired, in order. */
  readonly fired: FiredFault[] = [];
  /** Requests seen per operation (faulted or not). */
  readonly calls = new Map<string, number>();

  constructor(rules: FaultRule[] = []) {
    for (const r of rules) this.add(r);
  }

  add(rule: FaultRule): this {
    this.#rules.push({ rule, seen: 0, fired: 0 });
    return this;
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** Total requests seen. */
  get totalCalls(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  /** The fault to inject for this request, if any (and counts it). */
  #pick(op: string, input: Record<string, unknown>): FaultKind | undefined {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    for (const s of this.#rules) {
      if (s.rule.op !== op) continue;
      if (s.rule.match && !s.rule.match(input)) continue;
      s.seen++;
      if (s.seen <= (s.rule.after ?? 0)) continue;
      if (s.fired >= (s.rule.times ?? 1)) continue;
      s.fired++;
      this.fired.push({ op, kind: itemKind(input), fault: s.rule.fault });
      return s.rule.fault;
    }
    return undefined;
  }

  /** Installs the injector on `client` (once) and returns the same client. */
  attach(client: DynamoDBClient): DynamoDBClient {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = (context.commandName ?? '').replace(/Command$/, '');
        const input = (args.input ?? {}) as Record<string, unknown>;
        const fault = this.#pick(op, input);
        if (fault === undefined) return next(args);
        if (fault !== 'timeout-after') throw makeError(fault);
        await next(args); // the write lands…
        throw makeError(fault); // …and the caller never hears about it
      },
      { step: 'initialize', name: 'anchorlogFaultInjector', override: true },
    );
    return client;
  }
}
