// A real browser: Debian's chromium driven by playwright-core runs test/browser/app.js, bundled by
// esbuild the way a browser app is (the package's built ESM entry, dist/index.js, resolved through
// its "exports", and tfjs from node_modules), served by a local static server.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type {AddressInfo} from 'node:net';
import * as path from 'node:path';

import * as esbuild from 'esbuild';
import {chromium} from 'playwright-core';

const root = path.resolve(__dirname, '../..');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const types: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json',
};

function serve(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    // Cross-origin isolated, so that the page has SharedArrayBuffer and tfjs-backend-wasm runs its threaded build.
    res.writeHead(200, {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

it('prunes, fine-tunes, strips, quantizes and reloads a model in headless Chromium', async () => {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install it with 'apt-get install -y chromium' ` +
        '(.ci/run does) or set CHROMIUM_PATH.');
  }
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'app.js')],
    outfile: path.join(root, '.tmp/browser/app.bundle.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    conditions: ['import', 'browser'],
    logLevel: 'error',
  });
  const server = await serve();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-quic', '--no-first-run', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const {port} = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/test/browser/index.html`);
    await page.waitForFunction(() => (window as unknown as {__results?: unknown}).__results !== undefined,
        undefined, {timeout: 90000});
    const results = await page.evaluate(() => (window as unknown as {__results: Record<string, unknown>}).__results);
    expect(errors).toEqual([]);
    expect(results.error).toBeUndefined();
    expect(results.backend).toBe('cpu');
    expect(results.layerClasses).toEqual(['PruneLowMagnitude', 'PruneLowMagnitude']);
    // k-rule: keep round(2048 * 0.25) = 512 of 2048 and round(256 * 0.25) = 64 of 256.
    expect(results.sparsity).toEqual([[1536, 2048], [192, 256]]);
    expect(results.loadedZeros).toBe(1536);
    expect(results.quantizedDtypes).toEqual(['uint8', 'float32', 'uint8', 'float32']);
    expect(results.maxDiff as number).toBeLessThan(0.05);
    const gz = results.gzipped as {stripped: number; quantized: number};
    expect(gz.quantized).toBeLessThan(gz.stripped);
    // The mask update on wasm ran the package's SIMD module on tfjs's shared heap, exactly.
    expect(results.wasm).toEqual({
      backend: 'wasm', crossOriginIsolated: true, sharedHeap: true, kernelRegistered: true, kept: 9830,
      thresholdMatches: true, wrong: 0,
    });
  } finally {
    await browser.close();
    server.close();
  }
}, 120000);
