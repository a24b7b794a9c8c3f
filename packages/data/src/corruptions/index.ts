export {
  getCorruption,
  corrupt,
  corruptionNames,
  corruptionParameter,
  defaultSequence,
  hasSeverity,
  publishedSeverity,
  toByte,
  MNIST_C_ORDER,
  CIFAR10_C_ORDER,
  UNAVAILABLE_CORRUPTIONS,
  type CorruptionBenchmark,
  type CorruptionFn,
  type CorruptionOptions,
  type ImageShape,
} from "./registry.js";
export { plasmaFractal } from "./random.js";
