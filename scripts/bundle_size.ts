/**
 * Measures what this package adds to a browser app: dist/index.js bundled and minified by esbuild
 * with tfjs left external (an app has it already), then gzipped (zlib level 9).
 *
 * Run: npm run build && npx tsx scripts/bundle_size.ts
 */
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import {gzipSync} from 'node:zlib';

import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function measure(label: string, contents: string): Promise<void> {
  const result = await esbuild.build({
    stdin: {contents, resolveDir: root, loader: 'js'},
    bundle: true, minify: true, format: 'esm', platform: 'browser', write: false,
    external: ['@tensorflow/*'], logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  console.log(`${label}: ${code.length} B minified, ${gzipSync(code, {level: 9}).length} B gzipped`);
}

async function main(): Promise<void> {
  await measure('whole package (import *)', `import * as m from './dist/index.js'; console.log(m);`);
  await measure('pruning only', `import {pruneLowMagnitude, PolynomialDecay, UpdatePruningStep, stripPruning} from './dist/index.js'; console.log(pruneLowMagnitude, PolynomialDecay, UpdatePruningStep, stripPruning);`);
  await measure('quantization only', `import {quantizeDynamicRange, getGzippedModelSize} from './dist/index.js'; console.log(quantizeDynamicRange, getGzippedModelSize);`);
}

main();
