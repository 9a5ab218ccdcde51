/**
 * Mean over every axis but the last: the per-channel means of
 * BatchNormalization's `tf.moments` in training (two per layer, over the
 * whole `[n, h, w, c]` activation). See impl/reduce_impl.ts.
 */
import {Mean} from '@tensorflow/tfjs-core';

import {channelReduction} from '../impl/reduce_impl';
import {onCpuAndWasm} from '../kernel_util';
import type {KernelDefinition} from '../kernel_util';

export const meanConfig: KernelDefinition = onCpuAndWasm(Mean, (io) => channelReduction(Mean, io, true));
