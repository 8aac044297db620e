// Every test file starts from an empty emulator. Files in one worker slot run
// sequentially, so resetting the slot's moto here never races another file.
import { beforeAll } from 'vitest';
import { resetMoto } from './aws.ts';

beforeAll(async () => {
  await resetMoto();
});
