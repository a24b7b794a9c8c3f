import * as tf from "@tensorflow/tfjs";
import { RandomStream } from "@mnemo/core";

/** Seeded float32 data in [-1, 1). */
export function randomData(size: number, seed: number): Float32Array {
  const rng = new RandomStream(seed);
  return rng.fillUniform(new Float32Array(size), -1, 1);
}

/** Runs `name` on `backend` with fresh tensors built from plain data; returns the values. */
export async function runOn(
  backend: "cpu" | "wasm",
  name: string,
  inputs: Record<string, { shape: number[]; data: Float32Array }>,
  attrs: Record<string, unknown>,
): Promise<{ shape: number[]; data: Float32Array }> {
  await tf.setBackend(backend);
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
  const out = tf.engine().runKernel(name, ts as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, data: (await out.data()) as Float32Array };
  out.dispose();
  for (const t of Object.values(ts)) t.dispose();
  return result;
}

/** max |a - b| / max |b|: relative to the reference's scale, robust to entries near zero. */
export function relError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs((a[i] as number) - (b[i] as number)));
    den = Math.max(den, Math.abs(b[i] as number));
  }
  return den === 0 ? num : num / den;
}
