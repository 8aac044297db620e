import { MemoryDetectionStateStore } from '../../src/adapters/memory/memory-detection-state.ts';
import { describeDetectionStateStore } from './detection-state-contract.ts';

describeDetectionStateStore('in memory', async () => new MemoryDetectionStateStore());
