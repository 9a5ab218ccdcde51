// The cost model's choices for the bench's Dense 1600 -> 256 weight: sparse
// where the sparse kernels win, and with XNNPACK's thread pool (the threaded
// build) the stock kernel wherever its multiply-adds shared over the threads
// could catch up.
import {choosePath, worthKeeping} from '../../../src/kernels/sparse/plan';
import {buildSparseForm} from '../../../src/kernels/sparse/sparse_format';
import {sparseValues} from './helpers';

const forms = new Map<string, ReturnType<typeof buildSparseForm>>();
function form(sparsity: number, pattern: '[1,4]' | 'unstructured' = 'unstructured') {
  const key = `${sparsity} ${pattern}`;
  if (!forms.has(key)) forms.set(key, buildSparseForm(sparseValues(1600, 256, sparsity, pattern, 3), 1600, 256, false));
  return forms.get(key)!;
}

it.each([
  // sparsity, rows, one thread, two threads
  [0.9, 1, 'spmv', 'spmv'],
  [0.9, 32, 'spmm', 'spmm'],
  [0.7, 1, 'spmv', 'stock'],
  [0.7, 32, 'spmm', 'stock'],
  [0.3, 1, 'stock', 'stock'],
  [0.3, 32, 'stock', 'stock'],
] as const)('%f sparse, %i rows: %s on one thread, %s with two', (sparsity, rows, one, two) => {
  const f = form(sparsity);
  expect([choosePath(f, rows, 'wasm'), choosePath(f, rows, 'wasm', 1), choosePath(f, rows, 'wasm', 2)])
      .toEqual([one, one, two]);
});

it('keeps a form only while some number of rows could run it sparse, threads counted', () => {
  // Against 8 threads sharing the stock kernel's work perfectly, even 90% stays on the stock kernel.
  expect([worthKeeping(form(0.3), 'wasm'), worthKeeping(form(0.9), 'wasm', 2), worthKeeping(form(0.9), 'wasm', 8)])
      .toEqual([false, true, false]);
  // Blocks make the single-row kernel cheaper still.
  expect(choosePath(form(0.9, '[1,4]'), 1, 'wasm', 2)).toBe('spmvBlocked');
});

it('leaves cpu alone: its stock kernel has no thread pool', () => {
  const f = form(0.7);
  expect(choosePath(f, 32, 'cpu', 2)).toBe(choosePath(f, 32, 'cpu'));
});
