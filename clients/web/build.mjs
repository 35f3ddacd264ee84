// Bundles the page into dist/: app.js (src/main.ts, @chat/client-core and the @chat/common
// contracts it uses, one ES module), index.html and style.css copied as they are. dist/ plus
// server.mjs is everything the page needs at run time (the container image holds only those).
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // Workspace packages (@chat/common/contracts) from their TypeScript sources, as in development.
  conditions: ['development'],
  // Every browser that runs ES modules with top-level await; nothing older can use the page.
  target: ['es2022'],
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
await Promise.all(['index.html', 'style.css'].map((f) => copyFile(join(here, 'src', f), join(dist, f))));
console.log(`built ${dist}`);
