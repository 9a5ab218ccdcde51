/**
 * Which kind of model a set of artifacts holds: a layers model (a Keras-style
 * topology, written by `model.save` or tfjs-converter's `tfjs_layers_model`
 * output) or a graph model (a TensorFlow GraphDef as JSON, written by
 * tfjs-converter's `tfjs_graph_model` output). Browser-safe.
 */
import type * as tf from '@tensorflow/tfjs-core';

import {describeValue} from '../util/validation';

/**
 * The two formats of tfjs model artifacts: `'layers'` (`format: 'layers-model'`,
 * loaded by `tf.loadLayersModel`) and `'graph'` (`format: 'graph-model'`, loaded
 * by `tf.loadGraphModel`).
 *
 * @category Artifacts
 */
export type ModelFormat = 'layers' | 'graph';

/** A GraphDef node as tfjs-converter writes it in model.json. */
export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof ArrayBuffer);
}

/**
 * The format of `artifacts`, from its `format` field when it names one, else from
 * the shape of its topology (a GraphDef has a `node` array; a layers topology a
 * `class_name` or a `model_config`).
 *
 * @throws TypeError naming `caller` when the artifacts are not an object with a JSON
 *     topology of either kind, or their `format` contradicts the topology.
 */
export function detectModelFormat(caller: string, artifacts: unknown): ModelFormat {
  if (!isObject(artifacts)) {
    throw new TypeError(`${caller}: 'artifacts' must be tf.io.ModelArtifacts, but got ${describeValue(artifacts)}.`);
  }
  const topology = (artifacts as tf.io.ModelArtifacts).modelTopology;
  if (!isObject(topology)) {
    throw new TypeError(`${caller}: the artifacts' modelTopology must be a JSON object (a layers model's topology ` +
        `or a graph model's GraphDef), but got ${describeValue(topology)}.`);
  }
  const looksGraph = Array.isArray(topology['node']);
  const looksLayers = typeof topology['class_name'] === 'string' || isObject(topology['model_config']);
  const format = (artifacts as tf.io.ModelArtifacts).format;
  if (format === 'graph-model' && !looksLayers) return 'graph';
  if (format === 'layers-model' && !looksGraph) return 'layers';
  if (format != null && format !== 'graph-model' && format !== 'layers-model') {
    throw new TypeError(`${caller}: the artifacts' format must be 'layers-model' or 'graph-model', but got ` +
        `${describeValue(format)}.`);
  }
  if (format == null && looksGraph !== looksLayers) return looksGraph ? 'graph' : 'layers';
  throw new TypeError(`${caller}: the artifacts' modelTopology is neither a layers model's topology (with ` +
      `'class_name' or 'model_config') nor a graph model's GraphDef (with a 'node' array)` +
      `${format == null ? '' : `, as its format ${JSON.stringify(format)} says`}.`);
}

/**
 * Every node of a graph topology: the GraphDef's own and those of the functions
 * in its library (control flow bodies).
 */
export function graphNodes(topology: Record<string, unknown>): GraphNode[] {
  const nodes: GraphNode[] = [];
  const add = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const node of list) {
      if (isObject(node) && typeof node['name'] === 'string' && typeof node['op'] === 'string') {
        nodes.push(node as unknown as GraphNode);
      }
    }
  };
  add(topology['node']);
  const functions = (topology['library'] as {function?: unknown} | undefined)?.function;
  if (Array.isArray(functions)) {
    for (const f of functions) if (isObject(f)) add(f['nodeDef']);
  }
  return nodes;
}
