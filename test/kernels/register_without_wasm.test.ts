// Without '@tensorflow/tfjs-backend-wasm' imported, the wasm backend is not
// registered with tfjs, and registerTrainingKernels leaves it alone.
import * as tf from '@tensorflow/tfjs-core';

import {registerTrainingKernels, unregisterTrainingKernels} from '../../src/kernels';

it('skips a backend whose package was not imported', () => {
  expect(tf.findBackendFactory('wasm')).toBeNull();
  expect(registerTrainingKernels()).toEqual(['cpu']);
  expect(tf.getKernelsForBackend('wasm')).toEqual([]);
  expect(unregisterTrainingKernels({backends: ['wasm']})).toEqual([]);
  expect(unregisterTrainingKernels()).toEqual(['cpu']);
});
