// GET checkpoint, tiles, proofs, anchors (scope proofs:read) and the public GET /v1/keys.
// Wiring at module scope: one config read, one set of SDK clients per container.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DynamoAnchorStore } from '../src/adapters/aws/dynamo-anchor-store.ts';
import { createProofService, createServices } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { type ApiEvent, fromApiGateway, toApiGateway } from '../src/http/lambda-adapter.ts';
import { createRouter } from '../src/http/router.ts';
import { anchorRoutes } from '../src/http/routes/anchors.ts';
import { readRoutes } from '../src/http/routes/read.ts';

const services = createServices(loadConfig());
const proofs = createProofService(services);
const anchors = new DynamoAnchorStore({ client: services.clients.ddb, tableName: services.config.tableName });
const routes = [
  ...readRoutes({ proofs, principals: services.principals }),
  ...anchorRoutes({ anchors, principals: services.principals }),
];
const dispatch = createRouter(routes, {
  authenticate: services.authenticate,
  logger: {
    error(message, fields) {
      console.error(JSON.stringify({ level: 'ERROR', message, ...fields }));
    },
  },
});

export const handler = async (event: ApiEvent): Promise<APIGatewayProxyStructuredResultV2> =>
  toApiGateway(await dispatch(fromApiGateway(event)));
