/** The write path: POST events (scope events:write), appended through IngestService. */
import type { Route } from '../http/router.ts';
import { eventWriteRoutes } from '../http/routes/events.ts';
import type { Services } from './services.ts';

export function ingestApi(services: Pick<Services, 'ingest' | 'principals'>): Route[] {
  return eventWriteRoutes(services);
}
