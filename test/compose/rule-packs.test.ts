// src/compose/rule-packs.ts: every rule file of rules/<pack>/ is in its built-in pack (and nothing
// else is), so ANCHORLOG_DETECTION_PACKS runs exactly what the repository holds; the packs load.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticRuleSource } from '../../src/compose/detect.ts';
import { BUILTIN_RULE_PACKS } from '../../src/compose/rule-packs.ts';

const root = new URL('../../rules/', import.meta.url).pathname;

describe('built-in rule packs', () => {
  it('are the rules/ directories, file for file', () => {
    const onDisk = Object.fromEntries(
      readdirSync(root).map((dir) => [
        dir,
        readdirSync(join(root, dir))
          .filter((f) => f.endsWith('.json'))
          .map((f) => JSON.parse(readFileSync(join(root, dir, f), 'utf8')) as unknown)
          .sort((a, b) => String((a as { id: string }).id).localeCompare((b as { id: string }).id)),
      ]),
    );
    const built = Object.fromEntries(
      Object.entries(BUILTIN_RULE_PACKS).map(([name, pack]) => [
        name,
        [...pack()].sort((a, b) => String((a as { id: string }).id).localeCompare((b as { id: string }).id)),
      ]),
    );
    expect(built).toEqual(onDisk);
  });

  it('all of them together are a valid rule set', async () => {
    const source = staticRuleSource({ detection: { packs: Object.keys(BUILTIN_RULE_PACKS), rules: [] } });
    const rules = await source.enabledRules();
    expect(rules.length).toBe(Object.values(BUILTIN_RULE_PACKS).reduce((n, p) => n + p().length, 0));
  });
});
