/**
 * Residual networks for small images (He et al. 2016, §4.2), built from basic blocks:
 * - CIFAR ResNet-20/32 (3 stages of n blocks, 16/32/64 channels, 64-d features);
 * - reduced ResNet-18 (GEM, ER, A-GEM: nf = 20, [2, 2, 2, 2] blocks, 160-d features).
 * No max-pool in the stem; global average pool before the head; convs without bias.
 */
import * as tf from "@tensorflow/tfjs";
import type { Backbone, ForwardOptions, ForwardResult, InitializedModel, ParamTree, RandomStream } from "@mnemo/core";
import { ShapeError } from "@mnemo/core";
import { initBatchNorm } from "../layers/batch-norm.js";
import { convBn } from "../layers/conv-bn.js";
import { kaimingConv } from "../layers/init.js";
import { applyHead, growHead, initHead } from "../layers/linear.js";
import { asImages, checkInputShape, requireState } from "./common.js";

/**
 * How a block that changes shape adds its input: "conv" = 1×1 conv + BN (option B),
 * "identity" = stride-2 subsampling and zero channels (option A, parameter-free, the paper's
 * CIFAR choice). Blocks that keep the shape always use the identity.
 */
export type ShortcutKind = "conv" | "identity";

export interface ResNetSpec {
  name: string;
  stemChannels: number;
  /** Channels of each stage. */
  channels: readonly number[];
  /** Blocks in each stage. */
  blocks: readonly number[];
  /** Stride of each stage's first block. */
  strides: readonly number[];
  shortcut: ShortcutKind;
  inputShape: readonly number[];
}

export interface CifarResNetOptions {
  /** [height, width, channels]; default [32, 32, 3]. */
  inputShape?: readonly number[];
  /** Default "identity" (option A), as in the paper's CIFAR networks. */
  shortcut?: ShortcutKind;
}

interface BlockPlan {
  prefix: string;
  inC: number;
  outC: number;
  stride: number;
  projection: boolean;
}

function planBlocks(spec: ResNetSpec): BlockPlan[] {
  const plans: BlockPlan[] = [];
  let inC = spec.stemChannels;
  spec.channels.forEach((outC, s) => {
    for (let b = 0; b < (spec.blocks[s] as number); b++) {
      const stride = b === 0 ? (spec.strides[s] as number) : 1;
      const changes = stride !== 1 || inC !== outC;
      if (changes && spec.shortcut === "identity" && (outC < inC || (outC - inC) % 2 !== 0)) {
        throw new ShapeError(`${spec.name}: identity shortcut cannot map ${inC} to ${outC} channels; use shortcut "conv"`);
      }
      plans.push({ prefix: `stage${s + 1}.block${b}`, inC, outC, stride, projection: changes && spec.shortcut === "conv" });
      inC = outC;
    }
  });
  return plans;
}

/** Option A: x[:, ::s, ::s, :] then zero channels split evenly on both sides. */
function identityShortcut(x: tf.Tensor4D, stride: number, outC: number): tf.Tensor4D {
  const sub = stride === 1 ? x : tf.avgPool(x, 1, stride, "valid");
  const extra = outC - (x.shape[3] as number);
  if (extra === 0) return sub;
  const before = Math.floor(extra / 2);
  return tf.pad(sub, [
    [0, 0],
    [0, 0],
    [0, 0],
    [before, extra - before],
  ]);
}

export function resnet(spec: ResNetSpec): Backbone {
  checkInputShape(spec.inputShape, spec.name);
  if (spec.channels.length !== spec.blocks.length || spec.channels.length !== spec.strides.length) {
    throw new ShapeError(`${spec.name}: channels, blocks and strides must have one entry per stage`);
  }
  const plans = planBlocks(spec);
  const featureDim = spec.channels[spec.channels.length - 1] as number;
  const head = "head.";

  return {
    name: spec.name,
    inputShape: spec.inputShape,
    featureDim,
    headPrefix: head,
    init(rng: RandomStream, numClasses: number): InitializedModel {
      const params: ParamTree = {};
      const state: ParamTree = {};
      params["stem.conv.weight"] = kaimingConv(rng, 3, 3, spec.inputShape[2] as number, spec.stemChannels);
      initBatchNorm("stem.bn", spec.stemChannels, params, state);
      for (const p of plans) {
        params[`${p.prefix}.conv1.weight`] = kaimingConv(rng, 3, 3, p.inC, p.outC);
        initBatchNorm(`${p.prefix}.bn1`, p.outC, params, state);
        params[`${p.prefix}.conv2.weight`] = kaimingConv(rng, 3, 3, p.outC, p.outC);
        initBatchNorm(`${p.prefix}.bn2`, p.outC, params, state);
        if (p.projection) {
          params[`${p.prefix}.shortcut.conv.weight`] = kaimingConv(rng, 1, 1, p.inC, p.outC);
          initBatchNorm(`${p.prefix}.shortcut.bn`, p.outC, params, state);
        }
      }
      initHead(params, head, rng, featureDim, numClasses);
      return { params, state };
    },
    apply(params: ParamTree, x: tf.Tensor, options: ForwardOptions): ForwardResult {
      const state = requireState(options, spec.name);
      const training = options.training;
      const newState: ParamTree = {};
      const unit = (t: tf.Tensor4D, prefix: string, stride: number, relu: boolean) =>
        convBn(t, { conv: `${prefix}.conv.weight`, bn: `${prefix}.bn`, stride, relu }, params, state, training, newState);
      let y = asImages(x, spec.inputShape, spec.name);
      y = unit(y, "stem", 1, true);
      for (const p of plans) {
        const b = p.prefix;
        const r = convBn(y, { conv: `${b}.conv1.weight`, bn: `${b}.bn1`, stride: p.stride, relu: true }, params, state, training, newState);
        const short = p.projection ? unit(y, `${b}.shortcut`, p.stride, false) : identityShortcut(y, p.stride, p.outC);
        // relu(bn2(conv2(r)) + shortcut) as one unit: in training the add and ReLU ride in BN's passes.
        y = convBn(r, { conv: `${b}.conv2.weight`, bn: `${b}.bn2`, relu: true, residual: short }, params, state, training, newState);
      }
      const features = tf.mean(y, [1, 2]) as tf.Tensor2D;
      const logits = applyHead(features, params, head);
      return training ? { features, logits, state: newState } : { features, logits };
    },
    growHead(params: ParamTree, numClasses: number, rng: RandomStream): ParamTree {
      return growHead(params, head, numClasses, rng);
    },
    forwardMacs(numClasses: number): number {
      return resnetConvMacs(spec, plans) + featureDim * numClasses;
    },
  };
}

/** MACs of every convolution (stem, blocks, projection shortcuts); padding k//2, so out = ceil(in / stride). */
function resnetConvMacs(spec: ResNetSpec, plans: BlockPlan[]): number {
  let [h, w] = spec.inputShape as [number, number, number];
  let macs = h * w * 9 * (spec.inputShape[2] as number) * spec.stemChannels;
  for (const p of plans) {
    const oh = Math.ceil(h / p.stride);
    const ow = Math.ceil(w / p.stride);
    macs += oh * ow * 9 * p.inC * p.outC; // conv1 (strided)
    macs += oh * ow * 9 * p.outC * p.outC; // conv2
    if (p.projection) macs += oh * ow * p.inC * p.outC; // 1x1 shortcut
    h = oh;
    w = ow;
  }
  return macs;
}

function cifarResNet(name: string, n: number, options: CifarResNetOptions): Backbone {
  return resnet({
    name,
    stemChannels: 16,
    channels: [16, 32, 64],
    blocks: [n, n, n],
    strides: [1, 2, 2],
    shortcut: options.shortcut ?? "identity",
    inputShape: options.inputShape ?? [32, 32, 3],
  });
}

/** CIFAR ResNet-20 (n = 3; 0.27 M parameters with option-A shortcuts). */
export function resnet20(options: CifarResNetOptions = {}): Backbone {
  return cifarResNet("resnet20", 3, options);
}

/** CIFAR ResNet-32 (n = 5; 0.46 M parameters with option-A shortcuts). */
export function resnet32(options: CifarResNetOptions = {}): Backbone {
  return cifarResNet("resnet32", 5, options);
}

export interface ReducedResNet18Options {
  inputShape?: readonly number[];
  /** Base width; default 20 (GEM / ER / A-GEM). */
  nf?: number;
}

/** Reduced ResNet-18 of GEM (Lopez-Paz & Ranzato 2017): 1×1-conv shortcuts, 8·nf features. */
export function reducedResnet18(options: ReducedResNet18Options = {}): Backbone {
  const nf = options.nf ?? 20;
  return resnet({
    name: "reduced-resnet18",
    stemChannels: nf,
    channels: [nf, 2 * nf, 4 * nf, 8 * nf],
    blocks: [2, 2, 2, 2],
    strides: [1, 2, 2, 2],
    shortcut: "conv",
    inputShape: options.inputShape ?? [32, 32, 3],
  });
}
