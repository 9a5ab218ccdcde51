// Names the documentation's examples use without defining them: "your model", "your data".
import type * as tf from '@tensorflow/tfjs';

declare global {
  const model: tf.Sequential;
  const pruned: tf.Sequential;
  const prunedModel: tf.Sequential;
  const stripped: tf.Sequential;
  const xs: tf.Tensor;
  const ys: tf.Tensor;
  const xTrain: tf.Tensor;
  const yTrain: tf.Tensor;
  const trainSamples: number;
  const epochs: number;
  const batchSize: number;
  const artifacts: tf.io.ModelArtifacts;
  const batches: number;
  const optimizer: tf.Optimizer;
  function lossOf(prediction: tf.Tensor, labels: tf.Tensor): tf.Scalar;
  function xBatch(index: number): tf.Tensor;
  function yBatch(index: number): tf.Tensor;
}
