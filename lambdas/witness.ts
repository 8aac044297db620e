// Witness λ behind a function URL (cdk/witness-stack.ts): anchorlog as a C2SP tlog-witness
// witness for other logs (docs/witnessing.md §Running a witness on AWS). Wiring at module scope:
// one config read, one read of the seed secret per container. The HTTP handling is
// src/http/witness-http.ts, the same code the local witness runs.
import { witnessServiceOnAws } from '../src/compose/witness.ts';
import { loadWitnessServiceConfig } from '../src/config.ts';
import { witnessLambdaHandler } from '../src/http/witness-http.ts';

export const handler = witnessLambdaHandler(await witnessServiceOnAws(loadWitnessServiceConfig()));
