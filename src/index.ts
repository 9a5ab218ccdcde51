/**
 * tfjs-model-optimization: magnitude pruning and dynamic range quantization
 * for TensorFlow.js layers models. Every public name is listed here, one by one.
 *
 * @packageDocumentation
 */
export {
  ConstantSparsity,
  PolynomialDecay,
  PruningSchedule,
  deserializeSchedule,
  serializeSchedule,
} from './sparsity/pruning_schedule';
export type {
  ConstantSparsityArgs,
  PolynomialDecayArgs,
  PruningDecision,
  SerializedSchedule,
} from './sparsity/pruning_schedule';
export {PruneLowMagnitude} from './sparsity/pruning_wrapper';
export type {PruneLowMagnitudeArgs, PrunedWeight} from './sparsity/pruning_wrapper';
export type {BlockPoolingType, StructuredSparsityParams} from './sparsity/pruning_params';
export {getSparsity, pruneLowMagnitude, stripPruning} from './sparsity/prune';
export type {PruneLowMagnitudeParams, WeightSparsity} from './sparsity/prune';
export {
  PruningSummaries,
  UpdatePruningStep,
  collectPruneLowMagnitudeLayers,
  pruningSummaries,
  updatePruningStep,
} from './sparsity/pruning_callbacks';
export type {PruningSummariesArgs, PruningSummary} from './sparsity/pruning_callbacks';
export {PruneSelectedLayers, PruningPolicy, SkipUnsupportedLayers} from './sparsity/pruning_policy';
export type {PruneSelectedLayersArgs} from './sparsity/pruning_policy';
export {isPrunedMByN} from './sparsity/pruning_impl';
export {isPrunableLayer} from './sparsity/prunable_layer';
export type {PrunableLayer} from './sparsity/prunable_layer';
export {isPrunable} from './sparsity/prune_registry';
export {PruningError} from './sparsity/errors';
export {quantizeDynamicRange} from './quantization/quantize';
export type {QuantizationDtype, QuantizeDynamicRangeOptions} from './quantization/quantize';
export {loadQuantizedLayersModel} from './quantization/load';
export type {PerChannelQuantization, PerChannelQuantizationDtype} from './quantization/manifest';
export {getGzippedModelSize} from './io/gzipped_size';
export {quantizeArtifacts} from './artifacts/quantize_artifacts';
export type {QuantizeArtifactsOptions} from './artifacts/quantize_artifacts';
export type {CalibrationOptions} from './artifacts/calibration/calibration_options';
export type {CalibrationBatch} from './artifacts/calibration/consumer';
export {pruneArtifacts} from './artifacts/prune_artifacts';
export type {PruneArtifactsOptions} from './artifacts/prune_artifacts';
export {loadQuantizedGraphModel} from './artifacts/load_graph_model';
export type {ModelFormat} from './artifacts/model_format';
export {channelGroups} from './channels/channel_groups';
export type {ChannelGroup} from './channels/channel_groups';
export {shrinkModel} from './channels/shrink';
export {pruneChannels} from './channels/prune_channels';
export type {PruneChannelsParams} from './channels/prune_channels';
export type {ChannelImportance} from './channels/channel_masks';
export {CentroidInitialization} from './clustering/cluster_config';
export type {GradientAggregation} from './clustering/cluster_config';
export {ClusterWeights} from './clustering/cluster_wrapper';
export type {ClusterWeightsArgs, ClusteredValue, ClusteredWeight} from './clustering/cluster_wrapper';
export {clusterWeights, stripClustering} from './clustering/cluster';
export type {ClusterWeightsParams} from './clustering/cluster';
export {isClusterableLayer} from './clustering/clusterable_layer';
export type {ClusterableLayer} from './clustering/clusterable_layer';
export {isClusterable} from './clustering/clustering_registry';
export {ClusteringError} from './clustering/errors';
export {registerTrainingKernels, unregisterTrainingKernels} from './kernels';
export type {TrainingKernelBackend, TrainingKernelsOptions} from './kernels';
export {registerSparseKernels, unregisterSparseKernels} from './kernels/sparse';
export type {SparseKernelBackend, SparseKernelsOptions} from './kernels/sparse';
