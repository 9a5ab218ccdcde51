// The MNIST example's clustering options (examples/mnist/options.ts): --clusters, --sparsity and
// --clustering-epochs, their defaults and their errors. The pipeline itself is measured by the
// example's own runs (see examples/mnist/README.md).
import {OptionsError, parseCliArgs} from '../../examples/mnist/options';
import {planSchedule} from '../../examples/mnist/schedule_plan';

it('has no clustering stage and 70% sparsity by default, as the article', () => {
  const {options} = parseCliArgs([]);
  expect(options.clusters).toBeUndefined();
  expect([options.sparsityPercent, options.clusteringEpochs]).toEqual([70, 3]);
});

it('reads --clusters, --sparsity and --clustering-epochs', () => {
  const {options} = parseCliArgs(['--clusters', '8', '--sparsity', '90', '--clustering-epochs', '2']);
  expect([options.clusters, options.sparsityPercent, options.clusteringEpochs]).toEqual([8, 90, 2]);
});

it('sizes the schedule to the chosen final sparsity', () => {
  const plan = planSchedule({trainSamples: 60000, validationSplit: 0.2, batchSize: 250, pruningEpochs: 5, finalSparsity: 0.9});
  expect([plan.initialSparsity, plan.finalSparsity, plan.lastUpdateSparsity]).toEqual([0.4, 0.9, Math.fround(0.9)]);
  const low = planSchedule({trainSamples: 60000, validationSplit: 0.2, batchSize: 250, pruningEpochs: 5, finalSparsity: 0.3});
  expect([low.initialSparsity, low.finalSparsity]).toEqual([0.3, 0.3]);
});

it.each([
  [['--clusters', '2'], '--clusters must be an integer >= 3, but got 2.'],
  [['--clusters', 'many'], '--clusters must be an integer, but got "many".'],
  [['--sparsity', '100'], '--sparsity must be a percentage from 1 to 99, but got 100.'],
  [['--sparsity', '0'], '--sparsity must be an integer >= 1, but got 0.'],
  [['--clustering-epochs', '0'], '--clustering-epochs must be an integer >= 1, but got 0.'],
])('refuses %j', (argv, message) => {
  expect(() => parseCliArgs(argv)).toThrow(new OptionsError(message));
});
