// Every test runs on the cpu backend unless it switches explicitly.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
