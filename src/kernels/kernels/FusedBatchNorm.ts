/**
 * FusedBatchNorm (BatchNormalization's forward pass, in training and in
 * inference) on wasm: the WebAssembly SIMD kernel of
 * wasm/training_simd_channels.ts (`simdBatchNorm`), bit-identical to the
 * stock kernel, which takes a square root per element. Other shapes and
 * dtypes go to the stock kernel.
 */
import {FusedBatchNorm} from '@tensorflow/tfjs-core';
import type {FusedBatchNormAttrs} from '@tensorflow/tfjs-core';

import {delegate} from '../kernel_util';
import type {KernelArgs, KernelBuilder, KernelDefinition} from '../kernel_util';
import {simdBatchNorm} from '../wasm/training_simd_channels';
import type {BatchNormInputs} from '../wasm/training_simd_channels';

const wasmKernel: KernelBuilder = (replaced) => (args) => {
  const inputs = args.inputs as unknown as BatchNormInputs;
  const {varianceEpsilon} = args.attrs as unknown as FusedBatchNormAttrs;
  return simdBatchNorm(args.backend, inputs, varianceEpsilon) ??
    delegate(replaced, args as KernelArgs, FusedBatchNorm, 'wasm', 'these shapes or dtypes');
};

export const fusedBatchNormConfig: KernelDefinition = {kernelName: FusedBatchNorm, wasm: wasmKernel};

