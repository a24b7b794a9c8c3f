/** Weight initialisers drawing from Mnemo's seeded streams (never from tfjs's global RNG). */
import * as tf from "@tensorflow/tfjs";
import type { RandomStream } from "@mnemo/core";

/** Kaiming-normal (He et al. 2015, fan_in, ReLU gain √2) conv filter [kh, kw, in, out]. */
export function kaimingConv(rng: RandomStream, kh: number, kw: number, inC: number, outC: number): tf.Tensor4D {
  const fanIn = kh * kw * inC;
  const data = rng.fillNormal(new Float32Array(kh * kw * inC * outC), 0, Math.sqrt(2 / fanIn));
  return tf.tensor4d(data, [kh, kw, inC, outC]);
}

/** PyTorch's default Linear init, U(±1/√fan_in), as [in, out]: what the published heads use. */
export function linearWeight(rng: RandomStream, fanIn: number, fanOut: number): tf.Tensor2D {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.tensor2d(rng.fillUniform(new Float32Array(fanIn * fanOut), -bound, bound), [fanIn, fanOut]);
}

/** Kaiming-normal (fan_in, ReLU gain √2) dense weight [in, out], for hidden layers. */
export function kaimingLinear(rng: RandomStream, fanIn: number, fanOut: number): tf.Tensor2D {
  return tf.tensor2d(rng.fillNormal(new Float32Array(fanIn * fanOut), 0, Math.sqrt(2 / fanIn)), [fanIn, fanOut]);
}
