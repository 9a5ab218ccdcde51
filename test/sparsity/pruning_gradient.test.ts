// The forward pass uses weight * mask: pruned weights get exactly zero gradient, kept ones the
// gradient of the unpruned layer at the masked weights.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {pruneLowMagnitude} from '../../src';

it('gives pruned weights exactly zero gradient and kept weights their usual gradient', async () => {
  const wrapper = pruneLowMagnitude(tfl.layers.dense({units: 3, useBias: false, kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}));
  const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [4]}), wrapper]}) as tfl.Sequential;
  const [{weight, mask}] = wrapper.getPrunedWeights();
  await wrapper.updateMasks(0.5);
  const x = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
  const {grads} = tf.variableGrads(() => tf.sum(model.apply(x, {training: false}) as tf.Tensor) as tf.Scalar,
      [weight.read() as tf.Variable]);
  const gradient = await grads[(weight.read() as tf.Variable).name].data();
  const maskValues = await mask.read().data();
  // d(sum(x · (w * m))) / dw = (sum over the batch of x) * m, per column.
  const columnSums = await tf.sum(x, 0).data();
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 3; j++) {
      const k = i * 3 + j;
      expect(gradient[k]).toBeCloseTo(maskValues[k] === 0 ? 0 : columnSums[i], 5);
      if (maskValues[k] === 0) expect(gradient[k]).toBe(0);
    }
  }
  expect(Array.from(maskValues).filter((m) => m === 0)).toHaveLength(6);
  tf.dispose([x, ...Object.values(grads)]);
});
