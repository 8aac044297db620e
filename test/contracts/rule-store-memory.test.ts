/**
 * The RuleStore contract against the in-memory adapter; rule-store-aws.test.ts
 * runs the same suite against DynamoDB on the emulator.
 */
import { MemoryRuleStore } from '../../src/adapters/memory/rule-store.ts';
import { ruleStoreContract } from './rule-store.contract.ts';

ruleStoreContract('MemoryRuleStore', async () => ({
  store: new MemoryRuleStore(),
  empty: async () => new MemoryRuleStore(),
}));
