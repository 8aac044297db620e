/**
 * Builds the console (docs/console.md) with Vite, no framework:
 *
 *   vite build -c console/vite.config.ts                   → dist/console/ (served: npm start, CDK)
 *   vite build -c console/vite.config.ts --mode singlefile → dist/console/anchorlog-verify.html
 *
 * The served build has no inline script or style, so it runs under a strict
 * Content-Security-Policy (script-src 'self'); its verify worker is a file of
 * its own. The single-file build is the verify page alone with its script,
 * style and worker inlined, for an auditor to open from disk.
 *
 * The core's SHA-256 module (src/core/hash.ts) prefers node:crypto through a
 * top-level `await import()`; the browser build uses console/src/hash-browser.ts
 * in its place (same exports, @noble/hashes — what the core picks in a browser).
 * Any other node:* import resolves to a module that throws, so none slips in.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/console', import.meta.url));

const NO_NODE = '\0anchorlog-no-node';
/** node:* in the browser: a module whose evaluation throws, so `await import('node:…')` rejects. */
const noNodeBuiltins = (): Plugin => ({
  name: 'anchorlog-no-node-builtins',
  enforce: 'pre',
  resolveId: (id) => (id.startsWith('node:') ? NO_NODE : null),
  load: (id) => (id === NO_NODE ? 'throw new Error("no Node built-ins in the browser");\nexport {};' : null),
});

const HASH_BROWSER = fileURLToPath(new URL('./src/hash-browser.ts', import.meta.url));
/** src/core/hash.ts → console/src/hash-browser.ts: imported as '../hash.ts', './hash.ts' or '../core/hash.ts' (no other hash.ts is bundled). */
const HASH_ALIAS = { find: /^(\.\.?\/)+(core\/)?hash\.ts$/, replacement: HASH_BROWSER };

/** Inlines the page's one script and one stylesheet into the HTML (single-file build). */
const inlineIntoHtml = (): Plugin => ({
  name: 'anchorlog-inline-into-html',
  enforce: 'post',
  generateBundle(_options, bundle) {
    const html = bundle['index.html'];
    if (html?.type !== 'asset') return;
    let text = String(html.source);
    for (const [name, out] of Object.entries(bundle)) {
      if (out.type === 'chunk' && name.endsWith('.js')) {
        const tag = new RegExp(
          `<script type="module" crossorigin src="[^"]*${name.replace(/[.]/g, '\\.')}"></script>`,
        );
        // `</script` inside the code would end the element early; `<\/script` is the same JS.
        const code = out.code.replace(/<\/script/gi, '<\\/script');
        text = text.replace(tag, () => `<script type="module">${code}</script>`);
        delete bundle[name];
      } else if (out.type === 'asset' && name.endsWith('.css')) {
        const tag = new RegExp(
          `<link rel="stylesheet" crossorigin href="[^"]*${name.replace(/[.]/g, '\\.')}">`,
        );
        text = text.replace(tag, () => `<style>${String(out.source)}</style>`);
        delete bundle[name];
      }
    }
    // The page's own policy, adapted to inlining: still no connections at all.
    text = text.replace(
      /script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src data:; worker-src 'self';/,
      "script-src 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'unsafe-inline'; img-src data:; worker-src blob: data:;",
    );
    html.source = text;
    html.fileName = 'anchorlog-verify.html';
  },
});

export default defineConfig(({ mode }) => {
  const single = mode === 'singlefile';
  // The single file is the verify page alone: the operator pages need the API anyway.
  const pages: Record<string, string> = single
    ? { index: `${here}index.html` }
    : { index: `${here}index.html`, operator: `${here}operator.html`, access: `${here}access.html` };
  return {
    root: here,
    base: './',
    logLevel: 'warn',
    plugins: [noNodeBuiltins(), ...(single ? [inlineIntoHtml()] : [])],
    resolve: {
      alias: [
        HASH_ALIAS,
        ...(single
          ? [
              { find: /^\.\/spawn\.ts$/, replacement: `${here}src/verify/spawn-inline.ts` },
              { find: /^\.\/spawn-chunk\.ts$/, replacement: `${here}src/verify/spawn-chunk-none.ts` },
            ]
          : []),
      ],
    },
    // One worker file: the worker loads nothing after it starts (no chunk fetched later). The single
    // file's worker is classic (iife): Chromium refuses module workers from blob: URLs on file:// pages.
    worker: {
      format: single ? 'iife' : 'es',
      plugins: () => [noNodeBuiltins()],
      rollupOptions: { output: { codeSplitting: false } },
    },
    build: {
      outDir,
      emptyOutDir: !single,
      target: 'es2022',
      // The core's sources are the product: readable output helps an auditor who reads what runs.
      minify: false,
      sourcemap: false,
      modulePreload: false,
      assetsInlineLimit: single ? Number.MAX_SAFE_INTEGER : 4096,
      cssCodeSplit: !single,
      rollupOptions: {
        input: pages,
        ...(single ? { output: { codeSplitting: false } } : {}),
      },
    },
  };
});
