// A real browser: Debian's chromium driven by playwright-core runs test/browser/app.js, bundled by
// esbuild the way a browser app is (the package's built ESM entry, dist/index.js, resolved through
// its "exports", and tfjs from node_modules), served by a local static server.
import {bundle, launch, runPage, serve} from './harness';

it('prunes, fine-tunes, strips, quantizes and reloads a model in headless Chromium', async () => {
  await bundle('app.js', 'app.bundle.js');
  const server = await serve();
  const browser = await launch(['--disable-gpu']);
  try {
    const {results, errors} = await runPage(browser, server, 'test/browser/index.html');
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
