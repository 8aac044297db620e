/**
 * The ingest tests' environment (./ingest-support.ts) on a DynamoDB table in
 * moto, optionally behind an SDK fault injector: for the tests of faults,
 * concurrency on a real conditional-write store, and items from before
 * issue #11.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import type { FaultInjector } from '../../src/adapters/aws/faulty-dynamo.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { awsClientConfig } from '../support/aws.ts';
import { type Env, envOn } from './ingest-support.ts';

/** Real but short pauses: backoff stays exercised without slowing the suite. */
export const fastSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5)));

let tableCounter = 0;
export async function newTable(): Promise<{ client: DynamoDBClient; tableName: string }> {
  const client = new DynamoDBClient(awsClientConfig());
  const tableName = `anchorlog-ingest-${process.pid}-${++tableCounter}`;
  await ensureTable(client, tableName);
  return { client, tableName };
}

export type MotoEnv = Env<DynamoLogStore> & { client: DynamoDBClient };

/** A store on `tableName`; with `faults`, its client is a separate faulted one. */
export function makeEnv(
  tableName: string,
  faults?: FaultInjector,
  sleep: (ms: number) => Promise<void> = fastSleep,
): MotoEnv {
  const client = new DynamoDBClient(awsClientConfig());
  if (faults) faults.attach(client);
  const store = new DynamoLogStore({ client, tableName, sleep: fastSleep });
  return { ...envOn(store, sleep), client };
}
