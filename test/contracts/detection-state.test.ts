/**
 * The DetectionStateStore contract against the in-memory adapter and the
 * DynamoDB adapter on the emulator. (When the contract suites of
 * test/contracts/memory.test.ts and aws.test.ts are on this branch, these two
 * calls belong there.)
 */
import { MemoryDetectionStateStore } from '../../src/adapters/memory/detection-state.ts';
import { detectionStateContract } from './detection-state.contract.ts';

detectionStateContract('MemoryDetectionStateStore', async () => new MemoryDetectionStateStore());
