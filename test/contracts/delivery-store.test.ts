/** The DeliveryStore contract against the in-memory adapter and the DynamoDB adapter on the emulator. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDeliveryStore } from '../../src/adapters/aws/dynamo-delivery-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { MemoryDeliveryStore } from '../../src/adapters/memory/delivery-store.ts';
import { awsClientConfig } from '../support/aws.ts';
import { deliveryStoreContract } from './delivery-store.contract.ts';

deliveryStoreContract('MemoryDeliveryStore', async () => new MemoryDeliveryStore());

deliveryStoreContract('DynamoDeliveryStore', async () => {
  const client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, 'anchorlog-contracts');
  return new DynamoDeliveryStore({ client, tableName: 'anchorlog-contracts' });
});
