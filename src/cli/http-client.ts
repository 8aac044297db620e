/**
 * The CLI's HTTP client: undici from npm rather than the copy bundled with
 * Node. Node 24.21 bundles undici 7.29, whose HTTP/1 parser throws an
 * uncatchable AssertionError (`assert(!this.paused)` in Parser.finish) when a
 * server ends the connection (`Connection: close`, as moto does and S3 may)
 * while the response body is paused under backpressure (nodejs/undici#5360,
 * fixed in undici 8): `anchorlog export` streaming a download to disk crashed
 * about one run in three against the local stack on a loaded machine.
 * test/cli/http-client.test.ts reproduces it deterministically. (Loading the
 * npm undici also installs its dispatcher as the process's global one, which
 * Node's own fetch then uses too.)
 */
import { fetch as undiciFetch } from 'undici';

export const cliFetch: typeof fetch = undiciFetch as unknown as typeof fetch;
