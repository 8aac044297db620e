/**
 * Regenerates the catalog part of docs/events.md from catalog/*.json
 * (`npm run docs:events`; test/core/catalog-doc.test.ts fails when it is stale).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { STARTER_CATALOG_DOCUMENTS } from '../src/compose/starter-catalog.ts';
import { Catalog } from '../src/core/catalog.ts';
import { withCatalog } from '../src/core/catalog-doc.ts';

const path = new URL('../docs/events.md', import.meta.url).pathname;
const before = readFileSync(path, 'utf8');
const after = withCatalog(before, Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS));
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'docs/events.md is up to date\n' : 'docs/events.md regenerated\n');
