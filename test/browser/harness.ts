// What the browser tests share: bundling an app the way a browser app is bundled (the package's
// built ESM entry through its "exports", tfjs from node_modules), a static server for the repository
// (cross-origin isolated), and Debian's chromium driven by playwright-core.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type {AddressInfo} from 'node:net';
import * as path from 'node:path';

import * as esbuild from 'esbuild';
import {type Browser, chromium} from 'playwright-core';

export const root = path.resolve(__dirname, '../..');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const types: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** Bundles `app` (a path relative to test/browser, or absolute) into .tmp/browser/`bundleName`. */
export async function bundle(app: string, bundleName: string): Promise<void> {
  await esbuild.build({
    entryPoints: [path.resolve(__dirname, app)],
    outfile: path.join(root, '.tmp/browser', bundleName),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    conditions: ['import', 'browser'],
    logLevel: 'error',
  });
}

/** Serves the repository on 127.0.0.1, cross-origin isolated (SharedArrayBuffer for the threaded wasm build). */
export function serve(): Promise<http.Server> {
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

/** Launches headless chromium with `args` added to the quiet defaults. */
export async function launch(args: string[] = []): Promise<Browser> {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install it with 'apt-get install -y chromium' ` +
        '(.ci/run does) or set CHROMIUM_PATH.');
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-quic',
      '--no-first-run', '--disable-sync', ...args],
  });
}

/** Opens `page` of the served repository and returns what the app published on window.__results. */
export async function runPage(browser: Browser, server: http.Server, page: string): Promise<{
  results: Record<string, unknown>; errors: string[];
}> {
  const tab = await browser.newPage();
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(String(e)));
  const {port} = server.address() as AddressInfo;
  await tab.goto(`http://127.0.0.1:${port}/${page}`);
  await tab.waitForFunction(() => (window as unknown as {__results?: unknown}).__results !== undefined,
      undefined, {timeout: 90000});
  const results = await tab.evaluate(() => (window as unknown as {__results: Record<string, unknown>}).__results);
  return {results, errors};
}
