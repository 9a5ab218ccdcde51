/**
 * The model artifacts behind what a loader accepts: a URL that one of tfjs's
 * registered handlers serves, an IOHandler with `load()`, or the artifacts
 * themselves. Shared by loadQuantizedLayersModel and loadQuantizedGraphModel.
 */
import * as tf from '@tensorflow/tfjs-core';

import {argumentMessage, describeValue} from '../util/validation';

function isArtifacts(value: unknown): value is tf.io.ModelArtifacts {
  return value != null && typeof value === 'object' && 'modelTopology' in value &&
      typeof (value as tf.io.IOHandler).load !== 'function';
}

/**
 * Resolves `source` to model artifacts.
 *
 * @param caller The public function, for error messages.
 * @throws Error when a URL has no or several load handlers; TypeError when `source` is none of the
 *   three, or the handler's `load()` gives something other than an object.
 */
export async function loadModelArtifacts(caller: string, source: unknown, options?: tf.io.LoadOptions):
    Promise<tf.io.ModelArtifacts> {
  if (typeof source === 'string') {
    const handlers = tf.io.getLoadHandlers(source, options);
    if (handlers.length !== 1) {
      throw new Error(`${caller}: found ${handlers.length} load handlers for URL "${source}" (need exactly one); ` +
          'pass an IOHandler instead.');
    }
    source = handlers[0];
  }
  if (isArtifacts(source)) return source;
  if (source == null || typeof source !== 'object' || typeof (source as tf.io.IOHandler).load !== 'function') {
    throw new TypeError(argumentMessage(
        caller, 'source', 'must be a URL, an IOHandler with a load() method, or model artifacts', source));
  }
  const loaded = await (source as tf.io.IOHandler).load!();
  if (loaded == null || typeof loaded !== 'object') {
    throw new TypeError(`${caller}: the handler's load() must give model artifacts, but gave ${describeValue(loaded)}.`);
  }
  return loaded;
}
