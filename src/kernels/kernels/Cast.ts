/**
 * Cast to the dtype a tensor already has, on wasm: the output shares the
 * input's data (see Identity.ts), where stock tfjs-backend-wasm copies it.
 * tfjs-layers casts activations to float32 in training (ReLU6 and Dropout
 * among others): 18 ms of copies in a MobileNetV2-style batch. Casts that
 * change the dtype go to the stock kernel.
 */
import {Cast} from '@tensorflow/tfjs-core';
import type {CastAttrs, TensorInfo} from '@tensorflow/tfjs-core';

import {delegate} from '../kernel_util';
import type {KernelArgs, KernelBuilder, KernelDefinition} from '../kernel_util';
import {sharedOutput} from './Identity';

const wasmKernel: KernelBuilder = (replaced) => (args) => {
  const {x} = args.inputs as {x: TensorInfo};
  const {dtype} = args.attrs as unknown as CastAttrs;
  return (dtype === x.dtype ? sharedOutput(args.backend, x) : null) ??
    delegate(replaced, args as KernelArgs, Cast, 'wasm', `a cast from ${x.dtype} to ${dtype}`);
};

export const castConfig: KernelDefinition = {kernelName: Cast, wasm: wasmKernel};
