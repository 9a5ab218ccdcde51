/** Sum over every axis but the last (the bias gradient of Dense and Conv layers): see impl/reduce_impl.ts. */
import {Sum} from '@tensorflow/tfjs-core';

import {channelReduction} from '../impl/reduce_impl';
import {onCpuAndWasm} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';

export const sumConfig: KernelDefinition = onCpuAndWasm(Sum, (io) => channelReduction(Sum, io, false));
