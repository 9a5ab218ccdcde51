// The sparse kernels in a real browser, on tfjs-backend-wasm's threaded build: Debian's chromium
// driven by playwright-core loads threaded_wasm_app.js (bundled by esbuild from the sources) from a
// local server that makes the page cross-origin isolated, so that the wasm heap is shared memory.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type {AddressInfo} from 'node:net';
import * as path from 'node:path';

import * as esbuild from 'esbuild';
import {chromium} from 'playwright-core';

const root = path.resolve(__dirname, '../../..');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const types: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
};

function serve(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

it('runs sparse products on the threaded wasm build, equal to the stock kernels', async () => {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install it with 'apt-get install -y chromium' ` +
        'or set CHROMIUM_PATH.');
  }
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'threaded_wasm_app.js')],
    outfile: path.join(root, '.tmp/sparse-kernels-browser/app.bundle.js'),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2020', conditions: ['import', 'browser'],
    logLevel: 'error',
  });
  const server = await serve();
  const browser = await chromium.launch({
    executablePath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const {port} = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/test/kernels/sparse/threaded_wasm.html`);
    await page.waitForFunction(() => (window as unknown as {__results?: unknown}).__results !== undefined,
        undefined, {timeout: 60000});
    const results = await page.evaluate(() => (window as unknown as {__results: Record<string, unknown>}).__results);
    expect(errors).toEqual([]);
    expect(results.error).toBeUndefined();
    expect(results).toMatchObject({backend: 'wasm', crossOriginIsolated: true, sharedHeap: true});
    // Every product ran sparse, on the row, tiled and blocked kernels, and matched the stock ones.
    expect(results.sparseRuns).toBe(results.products);
    expect(results.paths).toEqual(['spmm', 'spmmBlocked', 'spmv', 'spmvBlocked']);
    expect(results.maxDiff as number).toBeLessThan(1e-5);
  } finally {
    await browser.close();
    server.close();
  }
}, 90000);
