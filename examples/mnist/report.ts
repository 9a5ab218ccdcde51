/**
 * The summary printed at the end of a run: the seed article's lines (test
 * loss and accuracy, gzipped sizes), adapted to tfjs, then the ratios, the
 * per-layer sparsity and the article's own figures for comparison.
 */
import type {PipelineResults} from './pipeline';
import {formatDuration} from './progress';

function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

function times(ratio: number): string {
  return `${ratio.toFixed(2)}x`;
}

/** A difference of accuracies in percentage points, signed. */
function signedPoints(delta: number): string {
  return `${delta >= 0 ? '+' : ''}${(100 * delta).toFixed(2)} points`;
}

function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}

/** The summary, line by line. */
export function formatReport(results: PipelineResults): string[] {
  const {baseline, pruned, clustered, quantized, ratios, article} = results;
  const stage = (name: string, r: {testLoss: number; testAccuracy: number}) =>
    `${name} - Test loss: ${r.testLoss} / Test accuracy: ${r.testAccuracy}`;
  const quantizedName = clustered === undefined ? 'pruned and quantized' : 'pruned, clustered and quantized';
  const quantizedLabel = quantizedName.charAt(0).toUpperCase() + quantizedName.slice(1);
  return [
    '',
    stage('Regular CNN', baseline),
    stage('Pruned CNN', pruned),
    ...(clustered === undefined ? [] : [stage(`Pruned and clustered CNN (${clustered.clusters} clusters)`, clustered)]),
    `${stage(`${quantizedLabel} CNN`, quantized)} (loaded back with tf.loadLayersModel)`,
    '',
    `Size of gzipped baseline tfjs model: ${bytes(baseline.gzippedBytes)}`,
    `Size of gzipped pruned tfjs model: ${bytes(pruned.gzippedBytes)}`,
    ...(clustered === undefined ? [] : [`Size of gzipped pruned and clustered tfjs model: ${bytes(clustered.gzippedBytes)}`]),
    `Size of gzipped ${quantizedName} tfjs model: ${bytes(quantized.gzippedBytes)}`,
    '',
    `Pruning: ${times(ratios.baselineToPruned)} smaller than the baseline`,
    ...(clustered === undefined ? [] : [
      `Pruning and clustering: ${times(ratios.baselineToClustered!)} smaller than the baseline`,
      `Pruning, clustering and quantization: ${times(ratios.baselineToQuantized)} smaller than the baseline ` +
        `(accuracy ${signedPoints(quantized.testAccuracy - pruned.testAccuracy)} against the pruned model)`,
    ]),
    ...(clustered !== undefined ? [] : [
      `Pruning and quantization: ${times(ratios.baselineToQuantized)} smaller than the baseline`,
      `Quantization after pruning: ${times(ratios.prunedToQuantized)} smaller than the pruned model`,
    ]),
    '',
    ...(clustered === undefined ? [] : [
      'Clustered kernels (stripped): distinct values',
      ...clustered.kernels.map((k) => `  ${k.weight.padEnd(22)} ${String(k.distinct).padStart(3)} values ` +
        `(${k.distinctNonZero} non-zero), ${percent(k.zeros / k.size)} zeros`),
      '',
    ]),
    'Sparsity of the pruned model (stripped):',
    ...results.sparsity.map((w) =>
      `  ${w.weight.padEnd(22)} ${percent(w.sparsity).padStart(7)} zeros (${w.zeros.toLocaleString('en-US')} of ` +
      `${w.size.toLocaleString('en-US')})`),
    `  ${'all pruned kernels'.padEnd(22)} ${percent(results.overallSparsity).padStart(7)}`,
    '',
    `The article (Keras, all of MNIST, 10 + 5 epochs): test accuracy ${article.baseline.testAccuracy} -> ` +
      `${article.pruned.testAccuracy}; gzipped ${bytes(article.baseline.gzippedBytes)} -> ` +
      `${bytes(article.pruned.gzippedBytes)} (${times(article.ratios.baselineToPruned)}) -> ` +
      `${bytes(article.quantized.gzippedBytes)} (${times(article.ratios.baselineToQuantized)}).`,
    `This run: ${results.data.trainSamples} training samples, ${results.options.epochs} + ` +
      `${results.options.pruningEpochs}${clustered === undefined ? '' : ` + ${results.options.clusteringEpochs}`} epochs, ` +
      `${results.options.sparsityPercent}% sparsity, ${results.backend} backend ` +
      `(${results.threads} thread${results.threads === 1 ? '' : 's'}), ` +
      `${formatDuration(results.durationsMs.total)} in all.`,
    `Results: ${results.files.results}`,
    `Chart: ${results.files.chart}`,
  ];
}
