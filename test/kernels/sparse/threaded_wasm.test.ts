// The sparse kernels in a real browser, on tfjs-backend-wasm's threaded build: Debian's chromium
// driven by playwright-core loads threaded_wasm_app.js (bundled by esbuild from the sources) from a
// local server that makes the page cross-origin isolated, so that the wasm heap is shared memory.
import * as path from 'node:path';

import {bundle, launch, runPage, serve} from '../../browser/harness';

it('runs sparse products on the threaded wasm build, equal to the stock kernels', async () => {
  await bundle(path.join(__dirname, 'threaded_wasm_app.js'), 'threaded_wasm.bundle.js');
  const server = await serve();
  const browser = await launch(['--disable-gpu']);
  try {
    const {results, errors} = await runPage(browser, server, 'test/kernels/sparse/threaded_wasm.html');
    expect(errors).toEqual([]);
    expect(results.error).toBeUndefined();
    expect(results).toMatchObject({backend: 'wasm', crossOriginIsolated: true, sharedHeap: true, threads: 1});
    // Every product ran sparse, on the row, tiled and blocked kernels, and matched the stock ones.
    expect(results.sparseRuns).toBe(results.products);
    expect(results.paths).toEqual(['spmm', 'spmmBlocked', 'spmv', 'spmvBlocked']);
    expect(results.maxDiff as number).toBeLessThan(1e-5);
  } finally {
    await browser.close();
    server.close();
  }
}, 90000);
