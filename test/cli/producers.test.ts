// `anchorlog producers`: pages through GET /v1/logs/{logId}/producers, prints each stream, exits 1
// when a gap is overdue or a stream is silent.
import { describe, expect, it } from 'vitest';
import { runProducers } from '../../src/cli/producers.ts';
import { captureIo } from './support.ts';

const stream = (name: string, over: Record<string, unknown> = {}) => ({
  stream: name,
  epoch: 0,
  contiguous: 2,
  highest: 4,
  gaps: [{ from: 3, to: 3, since: 0 }],
  missing: 1,
  overdueGaps: 0,
  duplicates: 0,
  resets: 0,
  lastSeenAt: 0,
  silent: false,
  ...over,
});

function fakeFetch(pages: unknown[]): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  let i = 0;
  return {
    urls,
    fetch: (async (input: string | URL | Request) => {
      urls.push(String(input));
      return new Response(JSON.stringify(pages[i++]), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch,
  };
}

const env = { ANCHORLOG_API_URL: 'http://api.test', ANCHORLOG_API_KEY: 'k' };

describe('anchorlog producers', () => {
  it('follows the cursor and exits 0 when nothing is overdue', async () => {
    const f = fakeFetch([{ streams: [stream('a')], cursor: 'a' }, { streams: [stream('b')] }]);
    const io = captureIo();
    expect(await runProducers(['--log', 'prod'], io, { env, fetch: f.fetch })).toBe(0);
    expect(f.urls[1]).toContain('cursor=a');
    expect(io.out()).toContain('a  epoch 0  contiguous 2/4  missing 1 [3]');
  });

  it('exits 1 with --json when a stream is silent or a gap overdue', async () => {
    const f = fakeFetch([{ streams: [stream('a', { silent: true }), stream('b', { overdueGaps: 1 })] }]);
    const io = captureIo();
    expect(await runProducers(['--log', 'prod', '--json'], io, { env, fetch: f.fetch })).toBe(1);
    expect(JSON.parse(io.out()).ok).toBe(false);
  });
});
