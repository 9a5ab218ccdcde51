// Pins the public surface: adding or removing an export must be a deliberate change here.
import * as api from '../src';

it('exports exactly the documented public names', () => {
  expect(Object.keys(api).sort()).toEqual([
    'CentroidInitialization',
    'ClusterWeights',
    'ClusteringError',
    'ConstantSparsity',
    'PolynomialDecay',
    'PruneLowMagnitude',
    'PruneSelectedLayers',
    'PruningError',
    'PruningPolicy',
    'PruningSchedule',
    'PruningSummaries',
    'SkipUnsupportedLayers',
    'UpdatePruningStep',
    'channelGroups',
    'clusterWeights',
    'collectPruneLowMagnitudeLayers',
    'deserializeSchedule',
    'getGzippedModelSize',
    'getSparsity',
    'isClusterable',
    'isClusterableLayer',
    'isPrunable',
    'isPrunableLayer',
    'isPrunedMByN',
    'loadQuantizedGraphModel',
    'loadQuantizedLayersModel',
    'pruneArtifacts',
    'pruneChannels',
    'pruneLowMagnitude',
    'pruningSummaries',
    'quantizeArtifacts',
    'quantizeDynamicRange',
    'registerSparseKernels',
    'registerTrainingKernels',
    'serializeSchedule',
    'shrinkModel',
    'stripClustering',
    'stripPruning',
    'unregisterSparseKernels',
    'unregisterTrainingKernels',
    'updatePruningStep',
  ]);
});

it('exports exactly fileSystem from the Node entry point', async () => {
  expect(Object.keys(await import('../src/node')).sort()).toEqual(['fileSystem', 'useWasmThreads']);
});
