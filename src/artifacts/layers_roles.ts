/**
 * What each weight of a layers model's artifacts is, read from the topology
 * JSON alone (no model is built, so layers of classes that are not registered
 * are no obstacle): the class of the layer that holds it, and from that its
 * output-channel axis (the same table quantizeDynamicRange uses).
 *
 * Porting note: a saved weight is named `<layer>/<variable>`, with the names of
 * enclosing models or wrappers before it (`outer/dense_1/kernel`); tfjs's
 * variable names are snake_case (`depthwise_kernel`), its layer properties
 * camelCase (`depthwiseKernel`).
 */
import {CHANNEL_AXIS} from '../quantization/weight_roles';
import type {ArtifactWeightRole, KernelLayout} from './weight_role';

const KERNEL_LAYOUT: Readonly<Record<string, Readonly<Record<string, KernelLayout>>>> = {
  Conv2DTranspose: {kernel: 'transposed-convolution'},
  Conv3DTranspose: {kernel: 'transposed-convolution'},
  DepthwiseConv2D: {depthwiseKernel: 'depthwise'},
  SeparableConv2D: {depthwiseKernel: 'depthwise', pointwiseKernel: 'inputs-outputs'},
};

/** The class name of every layer of the topology, by layer name (nested models and wrappers included). */
function layerClasses(topology: unknown): Map<string, string> {
  const classes = new Map<string, string>();
  const visit = (value: unknown, depth: number) => {
    if (value == null || typeof value !== 'object' || depth > 64) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    const config = record['config'] as Record<string, unknown> | undefined;
    if (typeof record['class_name'] === 'string' && typeof config?.['name'] === 'string' &&
        !classes.has(config['name'])) {
      classes.set(config['name'], record['class_name']);
    }
    for (const key of Object.keys(record)) visit(record[key], depth + 1);
  };
  visit(topology, 0);
  return classes;
}

function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/**
 * The role of every weight named in `shapes`, from the layers topology (model.json's
 * `modelTopology`). A weight whose layer is not found is quantized per tensor and not pruned.
 */
export function describeLayersWeights(
    topology: Record<string, unknown>, shapes: ReadonlyMap<string, readonly number[]>): Map<string, ArtifactWeightRole> {
  const classes = layerClasses(topology);
  const roles = new Map<string, ArtifactWeightRole>();
  for (const [name, shape] of shapes) {
    const parts = name.split('/');
    const variable = camelCase(parts[parts.length - 1]);
    const layerNames = parts.slice(0, -1).filter((part) => classes.has(part));
    const owner = layerNames[layerNames.length - 1];
    const className = owner === undefined ? undefined : classes.get(owner)!;
    const isBias = variable === 'bias';
    const axisOf = className === undefined || isBias ? undefined : CHANNEL_AXIS[className]?.[variable];
    const channelAxis = axisOf === undefined ? null : axisOf(shape.length);
    roles.set(name, {
      names: [name, ...layerNames],
      ops: className === undefined ? [] : [className],
      isBias,
      channelAxis: channelAxis !== null && channelAxis >= 0 && channelAxis < shape.length ? channelAxis : null,
      kernel: axisOf === undefined ? null : KERNEL_LAYOUT[className!]?.[variable] ?? 'inputs-outputs',
    });
  }
  return roles;
}
