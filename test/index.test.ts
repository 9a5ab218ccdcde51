// Pins the public surface: adding or removing an export must be a deliberate change here.
import * as api from '../src';

it('exports exactly the documented public names', () => {
  expect(Object.keys(api).sort()).toEqual([
    'ConstantSparsity',
    'PolynomialDecay',
    'PruneLowMagnitude',
    'PruningError',
    'PruningSchedule',
    'UpdatePruningStep',
    'collectPruneLowMagnitudeLayers',
    'deserializeSchedule',
    'getSparsity',
    'isPrunable',
    'isPrunableLayer',
    'pruneLowMagnitude',
    'serializeSchedule',
    'stripPruning',
    'updatePruningStep',
  ]);
});
