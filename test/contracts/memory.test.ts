/**
 * Every port's contract suite against the in-memory adapters
 * (src/adapters/memory/). test/contracts/aws.test.ts runs the same suites
 * against the AWS adapters; a difference is a bug in whichever is wrong.
 */
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { logStoreContract } from './log-store.contract.ts';

logStoreContract('MemoryLogStore', async () => new MemoryLogStore());
