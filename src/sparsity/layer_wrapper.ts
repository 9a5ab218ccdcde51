/**
 * The plumbing the package's wrappers share (PruneLowMagnitude here,
 * ClusterWeights in clustering/): a layer that holds an inner layer, mirrors
 * its trainability, losses, states, output shape and mask, copies a source
 * layer's weights into it when it is built, and serializes it as
 * `layer: {className, config}`. Each wrapper adds its own weights (masks,
 * centroids) and its forward pass.
 *
 * Porting note: tfmot's wrappers subclass Keras's `Wrapper`; these subclass
 * `tf.layers.Layer`, not tfjs's internal `Wrapper`, whose weight getters would
 * hide the wrappers' own weights from `model.weights` (and from saving).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {LayerVariable} from '@tensorflow/tfjs-layers';

import {missingConfigFields} from './prune_registry';

type Layer = tfl.layers.Layer;

/** A layer that wraps one inner layer; see the module comment. */
export abstract class LayerWrapper extends tfl.layers.Layer {
  /** The wrapped layer. */
  readonly layer!: Layer;

  /** A layer whose weights are copied into the inner layer when it is built. */
  private weightSource: Layer | null = null;

  /**
   * Takes `layer` as the inner layer (called by the subclass's constructor
   * once its arguments are checked), with the `trainable` argument the
   * wrapper received, if any.
   */
  protected attachInnerLayer(layer: Layer, trainable: boolean | undefined): void {
    (this as {layer: Layer}).layer = layer;
    if (trainable !== undefined) layer.trainable = trainable;
    this.supportsMasking = layer.supportsMasking;
  }

  /**
   * Rejects a `source` whose weights do not have the inner layer's shapes
   * (a custom layer whose config lost a constructor argument), in the
   * wrapper's own words.
   */
  protected abstract checkSameWeightShapes(source: Layer): void;

  /** Builds the inner layer (a subclass may explain its failures). */
  protected buildInnerLayer(inputShape: tfl.Shape | tfl.Shape[]): void {
    this.layer.build(inputShape as tfl.Shape);
    this.layer.built = true;
  }

  /**
   * Builds the inner layer if it is not built, then copies the weights of
   * the layer given to {@link setInitialWeightsFrom}, if any.
   */
  protected buildInnerWithWeights(inputShape: tfl.Shape | tfl.Shape[]): void {
    if (!this.layer.built) this.buildInnerLayer(inputShape);
    if (this.weightSource !== null) {
      this.checkSameWeightShapes(this.weightSource);
      this.layer.setWeights(this.weightSource.getWeights());
      this.weightSource = null;
    }
  }

  /**
   * Copies `source`'s weights into the inner layer when it is built (used to
   * wrap a fresh copy of a built layer).
   *
   * @param source A built layer of the same class and config as the inner layer.
   */
  setInitialWeightsFrom(source: Layer): void {
    this.weightSource = source;
  }

  /**
   * Copies the weights of `source` (a built layer of the inner layer's class
   * and config) into the inner layer now; the wrapper must be built.
   */
  copyInnerWeightsFrom(source: Layer): void {
    this.checkSameWeightShapes(source);
    this.layer.setWeights(source.getWeights());
  }

  /** Whether the inner layer is trainable (the wrapper mirrors it). */
  override get trainable(): boolean {
    // The base constructor runs before `layer` is set.
    return this.layer != null ? this.layer.trainable : true;
  }

  /** Sets whether the inner layer is trainable. */
  override set trainable(value: boolean) {
    if (this.layer != null) this.layer.trainable = value;
  }

  /** The inner layer's non-trainable weights, then the wrapper's own. */
  override get nonTrainableWeights(): LayerVariable[] {
    return this.layer.nonTrainableWeights.concat(super.nonTrainableWeights);
  }

  /** The inner layer's regularization losses. */
  override get losses() {
    return this.layer.losses;
  }

  /** Whether the inner layer is stateful. */
  override get stateful(): boolean {
    return this.layer.stateful;
  }

  /** Resets the inner layer's states (stateful recurrent layers). */
  override resetStates(): void {
    this.layer.resetStates();
  }

  /** Forwards the fast-initialization flag to the inner layer (set while a saved model loads). */
  override setFastWeightInitDuringBuild(value: boolean): void {
    super.setFastWeightInitDuringBuild(value);
    if (this.layer != null) this.layer.setFastWeightInitDuringBuild(value);
  }

  /** The inner layer's output shape. */
  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return this.layer.computeOutputShape(inputShape as tfl.Shape);
  }

  /** The inner layer's output mask. */
  override computeMask(inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return this.layer.computeMask(inputs, mask);
  }

  /** The inner layer as `{className, config}`, with the config fields tfjs-layers forgets. */
  protected innerLayerConfig(): tf.serialization.ConfigDict {
    return {
      className: this.layer.getClassName(),
      config: {...this.layer.getConfig(), ...missingConfigFields(this.layer)} as tf.serialization.ConfigDict,
    };
  }
}
