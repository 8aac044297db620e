/**
 * The DetectionStateStore contract against the in-memory adapter and the
 * DynamoDB adapter on the emulator. (When the contract suites of
 * test/contracts/memory.test.ts and aws.test.ts are on this branch, these two
 * calls belong there.) DynamoDB-only behaviour (item layout, the redo path
 * after a crash, TTL, faults) is in test/adapters/dynamo-detection-state.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDetectionStateStore } from '../../src/adapters/aws/dynamo-detection-state.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { MemoryDetectionStateStore } from '../../src/adapters/memory/detection-state.ts';
import { awsClientConfig } from '../support/aws.ts';
import { detectionStateContract } from './detection-state.contract.ts';

detectionStateContract('MemoryDetectionStateStore', async () => new MemoryDetectionStateStore());

detectionStateContract('DynamoDetectionStateStore', async () => {
  const client = new DynamoDBClient(awsClientConfig());
  // A table of its own: the other suites' items never mix with its transactions.
  await ensureTable(client, 'anchorlog-contracts-detection');
  return new DynamoDetectionStateStore({ client, tableName: 'anchorlog-contracts-detection' });
});
