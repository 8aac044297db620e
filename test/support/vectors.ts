/**
 * Where the shared real-world vectors live: `../shared/vectors` beside the
 * repository (as in CI), or ANCHORLOG_VECTORS. Tests fail — never skip —
 * when the folder is missing, so a green run always means they ran.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repoRoot = resolve(new URL('../..', import.meta.url).pathname);
export const VECTORS_DIR = process.env.ANCHORLOG_VECTORS ?? join(repoRoot, '..', 'shared', 'vectors');

if (!existsSync(VECTORS_DIR)) {
  throw new Error(
    `test vectors not found at ${VECTORS_DIR}: put shared/ beside the repository or set ANCHORLOG_VECTORS`,
  );
}
