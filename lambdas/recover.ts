// Recovery λ, invoked by EventBridge Scheduler every 5 minutes: completes principal
// and detection-rule changes that were staged but not recorded and promoted (a crash,
// or the system log unavailable), each with its one audit record (`recoverPending` in
// src/app/principals.ts and src/app/rules.ts). A change it cannot complete fails the
// invocation (alarmed).
import { principalsRecoveryJob } from '../src/compose/principals.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { jobHandler } from './job-handler.ts';

export const handler = jobHandler(principalsRecoveryJob(createServices(loadConfig())));
