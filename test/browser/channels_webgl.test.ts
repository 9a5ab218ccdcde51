// A channel-pruned, shrunk model in headless Chromium: pruned, stripped and shrunk on cpu, reloaded
// with stock tfjs and run on webgl (SwiftShader's software WebGL: correctness, not speed).
import {bundle, launch, runPage, serve} from './harness';

it('runs a shrunk residual CNN on webgl with the outputs of the pruned model', async () => {
  await bundle('channels_app.js', 'channels.bundle.js');
  const server = await serve();
  const browser = await launch(['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist']);
  try {
    const {results, errors} = await runPage(browser, server, 'test/browser/channels.html');
    expect(errors).toEqual([]);
    expect(results.error).toBeUndefined();
    // 16 channels keep round(16 * 0.5) = 8 in the residual group (stem, bn, dw, pw, the Add, head's rows).
    expect(results.stemFilters).toEqual([3, 3, 3, 8]);
    expect(results.pwKernel).toEqual([1, 1, 8, 8]);
    expect(results.headKernel).toEqual([8, 4]);
    expect(results.webgl).toBe(true);
    expect(results.backend).toBe('webgl');
    // WebGL computes in float32 with its own summation order (and may use float16 textures on some GPUs).
    expect(results.maxRelativeDifference as number).toBeLessThan(1e-3);
  } finally {
    await browser.close();
    server.close();
  }
}, 120000);
