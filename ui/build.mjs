// ui/build.mjs: bundle the dashboard into ui/dist (committed; `make ui`).
// esbuild bundles src/main.js with lightweight-charts into one minified
// app.js and minifies app.css; index.html and favicon.svg are copied.
// The output is deterministic for a given lockfile, so
// test/integration/dashboard_build.sh can check dist matches a rebuild.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const out = process.argv[2] || 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
	entryPoints: ['src/main.js'], bundle: true, minify: true, format: 'iife',
	target: ['chrome110', 'firefox110', 'safari16'], outfile: `${out}/app.js`,
	legalComments: 'eof', logLevel: 'warning',
});
await build({
	entryPoints: ['src/app.css'], bundle: true, minify: true, outfile: `${out}/app.css`,
	logLevel: 'warning',
});
copyFileSync('src/index.html', `${out}/index.html`);
copyFileSync('src/favicon.svg', `${out}/favicon.svg`);
