/**
 * Identity (tf.clone) without copying. The engine clones every tensor it saves for the backward
 * pass, and the stock wasm kernel copies the buffer each time (436 copies per ResNet-20 step).
 * Tensors are immutable, so sharing the buffer with a bumped reference count, as the cpu backend
 * and the wasm Reshape kernel already do, is equivalent.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

function identity(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm }): tf.TensorInfo {
  const x = args.inputs["x"] as tf.TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: "wasm",
  kernelFunc: identity as unknown as tf.KernelFunc,
};
