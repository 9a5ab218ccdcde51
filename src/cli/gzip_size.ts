/// <reference types="node" />
// (The build type-checks with no ambient types; the command line needs Node's.)
/**
 * getGzippedModelSize's measure with Node's zlib, on its thread pool: the same
 * bytes (Node's `zlib.gzipSync(data, {level: 9})` and pako's level 9 agree;
 * see io/gzipped_size.ts) several times faster than pako in JavaScript, and the
 * model.json and weights compressed at once.
 */
import {gzip} from 'node:zlib';
import {promisify} from 'node:util';

import type * as tf from '@tensorflow/tfjs-core';

import {GZIP_LEVEL} from '../io/gzipped_size';
import {modelJSONBytes, weightBytes} from '../io/model_json';

const gzipAsync = promisify(gzip);

/** `gzip(model.json) + gzip(weights.bin)` in bytes, as getGzippedModelSize measures it. */
export async function gzippedModelSize(artifacts: tf.io.ModelArtifacts): Promise<number> {
  const sizes = await Promise.all([modelJSONBytes(artifacts), weightBytes(artifacts)]
      .map(async (bytes) => (await gzipAsync(bytes, {level: GZIP_LEVEL})).byteLength));
  return sizes[0] + sizes[1];
}
