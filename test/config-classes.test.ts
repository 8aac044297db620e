/** ANCHORLOG_CLASSES (docs/classes.md): none, the default set, or a JSON array, refused loudly when malformed. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { DEFAULT_AI_CLASSES } from '../src/core/classes/definition.ts';

const BASE = { ANCHORLOG_TABLE: 't', ANCHORLOG_ARCHIVE_BUCKET: 'b' };

describe('ANCHORLOG_CLASSES', () => {
  it('unset or empty: no classes', () => {
    expect(loadConfig(BASE).classes).toBeUndefined();
    expect(loadConfig({ ...BASE, ANCHORLOG_CLASSES: ' ' }).classes).toBeUndefined();
  });

  it('default: the AI-platform set', () => {
    expect(loadConfig({ ...BASE, ANCHORLOG_CLASSES: 'default' }).classes).toEqual(DEFAULT_AI_CLASSES);
  });

  it('a JSON array of definitions, sorted by name', () => {
    const classes = [
      { name: 'priv', version: 2, action: 'access.*', actorType: 'human' },
      { name: 'exports', version: 1, action: 'data.export', targetType: 'dataset' },
    ];
    expect(loadConfig({ ...BASE, ANCHORLOG_CLASSES: JSON.stringify(classes) }).classes).toEqual([
      classes[1],
      classes[0],
    ]);
  });

  it.each([
    'access.*',
    '{"name":"a"}',
    '[{"name":"a","version":1,"action":"a*"}]',
    '[{"name":"a","version":1,"action":"a.b"},{"name":"a","version":2,"action":"a.c"}]',
    '[1]',
  ])('refuses %s', (raw) => {
    expect(() => loadConfig({ ...BASE, ANCHORLOG_CLASSES: raw })).toThrow(ConfigError);
  });
});
