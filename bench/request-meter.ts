/**
 * RequestMeter: counts what an AWS SDK v3 client sends, for the benchmarks and
 * the cost model (bench/ingest.ts, bench/cost.ts). Benchmark-only: nothing in
 * src/ or lambdas/ uses it, and it ships in no Lambda. Tested against the
 * emulator by test/bench/request-meter.test.ts.
 *
 * `meter.attach(client)` adds one middleware to the client's own stack (the
 * client object is unchanged and may be shared), which
 * tallies per service + operation, for every HTTP attempt (SDK retries
 * included, since the middleware sits inside the retry loop):
 *
 * - requests, errors, DynamoDB conditional-check failures;
 * - request bytes (the serialized body: Content-Length, else the body's
 *   length) and response bytes (the response's Content-Length);
 * - for DynamoDB, estimated write and read request units (WCU/RCU, billed
 *   on-demand as WRU/RRU), from the items in the request and response, per
 *   the DynamoDB item-size rules
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 *     item size = Σ (UTF-8 attribute name + value), S = UTF-8 bytes,
 *     N ≈ 1 byte per 2 significant digits + 1, B = raw bytes, BOOL/NULL = 1,
 *     L/M = 3 + Σ (element + 1), sets = Σ members;
 *     writes: ceil(size / 1 KB) per item (at least 1); PutItem counts the
 *     larger of the new item and the old one when the old one comes back
 *     (ReturnValues / ReturnValuesOnConditionCheckFailure ALL_OLD);
 *     UpdateItem / DeleteItem use the returned item if any, else 1;
 *     a failed condition still consumes the write; transactions ×2;
 *     reads: ceil(size / 4 KB) per item (at least 1), halved for eventually
 *     consistent reads; Query / Scan round the *sum* of returned items
 *     (real DynamoDB sums the items it evaluated, before any filter).
 *   These are estimates: real DynamoDB reports exact figures with
 *   ReturnConsumedCapacity, which the emulator does not model faithfully.
 */

/** The part of an SDK v3 client the meter needs (structural; no @smithy import). */
export interface MeterableClient {
  middlewareStack: {
    add(
      middleware: unknown,
      options: { step: 'deserialize'; name: string; priority?: 'high' | 'normal' | 'low' },
    ): void;
    remove(toRemove: string): boolean;
  };
}

export interface OperationTally {
  /** 'DynamoDB', 'S3', 'KMS', … (the client name without "Client", or the label given to attach). */
  service: string;
  /** 'PutItem', 'GetObject', 'Sign', … (the command name without "Command"). */
  operation: string;
  requests: number;
  errors: number;
  /** DynamoDB ConditionalCheckFailedException (counted in errors too). */
  conditionalFailures: number;
  requestBytes: number;
  responseBytes: number;
  /** Estimated write request units (DynamoDB only; 0 elsewhere). */
  wcu: number;
  /** Estimated read request units (DynamoDB only; 0 elsewhere). */
  rcu: number;
}

type Av = Record<string, unknown>;
type Item = Record<string, Av>;

const utf8Len = (s: string) => Buffer.byteLength(s, 'utf8');

/** Approximate stored size of a DynamoDB number: 1 byte per two significant digits, plus 1. */
export function numberSize(n: string): number {
  const mantissa = n.trim().replace(/^[+-]/, '').split(/[eE]/)[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function binaryLen(b: unknown): number {
  if (b instanceof Uint8Array) return b.byteLength;
  if (typeof b === 'string') return Buffer.from(b, 'base64').byteLength;
  return 0;
}

/** Size of one attribute value (without its name), per the DynamoDB item-size rules. */
export function attributeValueSize(v: Av): number {
  if (v.S !== undefined) return utf8Len(v.S as string);
  if (v.N !== undefined) return numberSize(v.N as string);
  if (v.B !== undefined) return binaryLen(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return (v.SS as string[]).reduce((n, s) => n + utf8Len(s), 0);
  if (v.NS !== undefined) return (v.NS as string[]).reduce((n, s) => n + numberSize(s), 0);
  if (v.BS !== undefined) return (v.BS as unknown[]).reduce((n: number, b) => n + binaryLen(b), 0);
  if (v.L !== undefined) return 3 + (v.L as Av[]).reduce((n, e) => n + attributeValueSize(e) + 1, 0);
  if (v.M !== undefined) {
    return (
      3 + Object.entries(v.M as Item).reduce((n, [k, e]) => n + utf8Len(k) + attributeValueSize(e) + 1, 0)
    );
  }
  return 0;
}

/** Size of a DynamoDB item in bytes: attribute names plus values. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += utf8Len(k) + attributeValueSize(v);
  return n;
}

/** Write units for one item write of this size: ceil(bytes / 1 KB), at least 1. */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
/** Strongly consistent read units for this many bytes: ceil(bytes / 4 KB), at least 1. */
export const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

interface Units {
  wcu: number;
  rcu: number;
}

/** Estimated units for one DynamoDB call (input, and output or error). */
export function dynamoUnits(
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown> | undefined,
  error: { name?: string; Item?: Item } | undefined,
): Units {
  const conditionalFailure = error?.name === 'ConditionalCheckFailedException';
  if (error && !conditionalFailure) return { wcu: 0, rcu: 0 };
  const old = (output?.Attributes as Item | undefined) ?? error?.Item;
  const consistent = (x: unknown) => (x === true ? 1 : 0.5);
  switch (operation) {
    case 'PutItem':
      return { wcu: writeUnits(Math.max(itemSize(input.Item as Item), itemSize(old))), rcu: 0 };
    case 'UpdateItem':
    case 'DeleteItem':
      return { wcu: old ? writeUnits(itemSize(old)) : 1, rcu: 0 };
    case 'BatchWriteItem': {
      const units = (req: Record<string, Array<Record<string, { Item?: Item }>>> | undefined) => {
        let w = 0;
        for (const reqs of Object.values(req ?? {})) {
          for (const r of reqs) w += r.PutRequest ? writeUnits(itemSize(r.PutRequest.Item)) : 1;
        }
        return w;
      };
      return {
        wcu: units(input.RequestItems as never) - units(output?.UnprocessedItems as never),
        rcu: 0,
      };
    }
    case 'TransactWriteItems': {
      let w = 0;
      for (const t of (input.TransactItems as Array<Record<string, { Item?: Item }>>) ?? []) {
        w += 2 * (t.Put ? writeUnits(itemSize(t.Put.Item)) : 1);
      }
      return { wcu: w, rcu: 0 };
    }
    case 'GetItem':
      return { wcu: 0, rcu: readUnits(itemSize(output?.Item as Item)) * consistent(input.ConsistentRead) };
    case 'BatchGetItem': {
      let r = 0;
      const req = (input.RequestItems ?? {}) as Record<
        string,
        { Keys?: unknown[]; ConsistentRead?: boolean }
      >;
      const got = (output?.Responses ?? {}) as Record<string, Item[]>;
      const unprocessed = (output?.UnprocessedKeys ?? {}) as Record<string, { Keys?: unknown[] }>;
      for (const [table, spec] of Object.entries(req)) {
        const items = got[table] ?? [];
        const processed = (spec.Keys?.length ?? 0) - (unprocessed[table]?.Keys?.length ?? 0);
        const found = items.reduce((n, it) => n + readUnits(itemSize(it)), 0);
        // Keys that found nothing still cost the minimum read.
        r += (found + Math.max(0, processed - items.length)) * consistent(spec.ConsistentRead);
      }
      return { wcu: 0, rcu: r };
    }
    case 'Query':
    case 'Scan': {
      const bytes = ((output?.Items as Item[]) ?? []).reduce((n, it) => n + itemSize(it), 0);
      return { wcu: 0, rcu: readUnits(bytes) * consistent(input.ConsistentRead) };
    }
    case 'TransactGetItems': {
      const got = (output?.Responses ?? []) as Array<{ Item?: Item }>;
      return { wcu: 0, rcu: got.reduce((n, g) => n + 2 * readUnits(itemSize(g.Item)), 0) };
    }
    default:
      return { wcu: 0, rcu: 0 };
  }
}

function headerLength(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'content-length') {
      const n = Number(v);
      return Number.isFinite(n) ? n : undefined;
    }
  }
  return undefined;
}

function bodyLength(body: unknown): number {
  if (typeof body === 'string') return utf8Len(body);
  if (body instanceof Uint8Array) return body.byteLength;
  if (body instanceof ArrayBuffer) return body.byteLength;
  return 0; // streams of unknown length
}

let meterIds = 0;

export class RequestMeter {
  readonly #tallies = new Map<string, OperationTally>();
  readonly #attached: Array<{ client: MeterableClient; name: string }> = [];
  readonly #name = `anchorlogRequestMeter${++meterIds}`;

  /** Adds the counting middleware to `client` (once per meter and client) and returns the same client. */
  attach<C extends MeterableClient>(client: C, service?: string): C {
    if (this.#attached.some((a) => a.client === client)) return client;
    const middleware =
      // biome-ignore lint/suspicious/noExplicitAny: SDK handler types vary per client
        (next: any, context: { clientName?: string; commandName?: string }) =>
        async (args: {
          input: Record<string, unknown>;
          request?: { headers?: Record<string, string>; body?: unknown };
        }) => {
          const svc = service ?? (context.clientName ?? 'Unknown').replace(/Client$/, '');
          const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
          const reqBytes = headerLength(args.request?.headers) ?? bodyLength(args.request?.body);
          try {
            const result = await next(args);
            const resHeaders = (result?.response as { headers?: Record<string, string> } | undefined)
              ?.headers;
            this.#record(
              svc,
              op,
              reqBytes,
              headerLength(resHeaders) ?? 0,
              args.input,
              result?.output,
              undefined,
            );
            return result;
          } catch (err) {
            const e = err as { name?: string; Item?: Item; $response?: { headers?: Record<string, string> } };
            this.#record(
              svc,
              op,
              reqBytes,
              headerLength(e?.$response?.headers) ?? 0,
              args.input,
              undefined,
              e,
            );
            throw err;
          }
        };
    client.middlewareStack.add(middleware, { step: 'deserialize', name: this.#name, priority: 'high' });
    this.#attached.push({ client, name: this.#name });
    return client;
  }

  /** Removes the middleware from every client this meter was attached to. */
  detach(): void {
    for (const a of this.#attached.splice(0)) a.client.middlewareStack.remove(a.name);
  }

  reset(): void {
    this.#tallies.clear();
  }

  /** Tallies sorted by service, then operation. */
  snapshot(): OperationTally[] {
    return [...this.#tallies.values()]
      .map((t) => ({ ...t }))
      .sort((a, b) => a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation));
  }

  /** Sum over the tallies matching `filter` (default all). */
  total(filter: (t: OperationTally) => boolean = () => true): Omit<OperationTally, 'service' | 'operation'> {
    const sum = {
      requests: 0,
      errors: 0,
      conditionalFailures: 0,
      requestBytes: 0,
      responseBytes: 0,
      wcu: 0,
      rcu: 0,
    };
    for (const t of this.#tallies.values()) {
      if (!filter(t)) continue;
      sum.requests += t.requests;
      sum.errors += t.errors;
      sum.conditionalFailures += t.conditionalFailures;
      sum.requestBytes += t.requestBytes;
      sum.responseBytes += t.responseBytes;
      sum.wcu += t.wcu;
      sum.rcu += t.rcu;
    }
    return sum;
  }

  #record(
    service: string,
    operation: string,
    requestBytes: number,
    responseBytes: number,
    input: Record<string, unknown>,
    output: Record<string, unknown> | undefined,
    error: { name?: string; Item?: Item } | undefined,
  ): void {
    const key = `${service}\u0000${operation}`;
    let t = this.#tallies.get(key);
    if (!t) {
      t = {
        service,
        operation,
        requests: 0,
        errors: 0,
        conditionalFailures: 0,
        requestBytes: 0,
        responseBytes: 0,
        wcu: 0,
        rcu: 0,
      };
      this.#tallies.set(key, t);
    }
    t.requests++;
    t.requestBytes += requestBytes;
    t.responseBytes += responseBytes;
    if (error) t.errors++;
    if (error?.name === 'ConditionalCheckFailedException') t.conditionalFailures++;
    if (service === 'DynamoDB') {
      const u = dynamoUnits(operation, input ?? {}, output, error);
      t.wcu += u.wcu;
      t.rcu += u.rcu;
    }
  }
}
