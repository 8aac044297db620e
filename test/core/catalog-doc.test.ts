// docs/events.md's catalog section is generated from catalog/*.json: fails when it is stale
// (run `npm run docs:events`), and the renderer lists every action with its required fields.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STARTER_CATALOG_DOCUMENTS } from '../../src/compose/starter-catalog.ts';
import { Catalog } from '../../src/core/catalog.ts';
import { renderCatalog, requiredPointers, withCatalog } from '../../src/core/catalog-doc.ts';

const page = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
const catalog = Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);

describe('docs/events.md', () => {
  it('is up to date with catalog/*.json (npm run docs:events)', () => {
    expect(withCatalog(page, catalog)).toBe(page);
  });

  it('has a section per action version, with its required fields', () => {
    const block = renderCatalog(catalog);
    for (const e of catalog.entries()) expect(block).toContain(`### \`${e.action}\` v${e.version}`);
    expect(block).toContain('`/metadata/argumentsDigest`');
  });

  it('follows required fields through properties', () => {
    expect(
      requiredPointers({
        required: ['a', 'b'],
        properties: { a: { required: ['c'], properties: { c: { required: ['d'] } } } },
      }),
    ).toEqual(['/a', '/a/c', '/a/c/d', '/b']);
  });
});
