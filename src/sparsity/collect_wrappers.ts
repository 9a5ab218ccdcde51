/**
 * Finding the pruning wrappers of a model: used by the step callback, the
 * summaries, stripPruning and quantization.
 */
import * as tfl from '@tensorflow/tfjs-layers';

import {layersOf} from '../graph/model_graph';
import type {PruneLowMagnitude} from './pruning_wrapper';
import {isPruneLowMagnitude} from './wrapper_config';

type Layer = tfl.layers.Layer;

/**
 * Every {@link PruneLowMagnitude} layer of a model or layer, nested models
 * included, each once (shared layers are not repeated).
 *
 * @param modelOrLayer A model, a layer, or a list of layers.
 * @returns The wrappers, in layer order.
 * @category Pruning
 */
export function collectPruneLowMagnitudeLayers(modelOrLayer: Layer | Layer[]): PruneLowMagnitude[] {
  return [...layersOf(modelOrLayer)].filter(isPruneLowMagnitude);
}
