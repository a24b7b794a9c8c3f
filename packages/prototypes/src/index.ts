// Core classifiers only: nothing reachable from here imports tensorflow. Feature extraction lives in
// the "@mnemo/prototypes/extract" entry point.
export { NearestMeanClassifier, NMC_PRESETS, type NmcOptions, type NmcState, type FlipOption } from "./nmc.js";
export { SimpleCil, type SimpleCilOptions, type SimpleCilState } from "./simplecil.js";
export { TeenClassifier, type TeenOptions, type TeenState } from "./teen.js";
export { teenCalibrate, type TeenCalibrationOptions, type TeenMode } from "./teen-calibration.js";
export { FeatureCache, type CachedFeatures, type FeatureCacheStats } from "./feature-cache.js";
export { toDense, toMatrix, type DenseMatrix, type FeatureInput, type LabelInput } from "./dense.js";
export type { Metric } from "./prototype-scorer.js";
export type { ClassSumsState } from "./class-sums.js";
export { UnknownClassError, EmptyClassError } from "./errors.js";
