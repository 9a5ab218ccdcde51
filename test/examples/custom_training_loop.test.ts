// The custom-training-loop example of docs/custom-training-loops.md runs and prunes.
import {run} from '../../examples/custom_training_loop/main';

it('prunes both kernels to 80% while the loss goes down', async () => {
  const {losses, sparsity} = await run(3, 5);
  // The k-rule keeps round(128 * 0.2) = 26 of 128 and round(16 * 0.2) = 3 of 16.
  expect(sparsity).toEqual([102 / 128, 13 / 16]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
});
