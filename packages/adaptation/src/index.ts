/**
 * @mnemo/adaptation: continual test-time adaptation on functional models. Source (no adaptation),
 * BN-statistics adaptation, Tent and CoTTA, each a per-batch "predict, then adapt" step over an
 * online stream of unlabelled, shifted domains (reference: shared/reference/self-training-tta.md §2).
 */
export { createAdapter, cottaTarget, cottaWeightUpdate, ADAPTER_NAMES, REFERENCE_OPTIMIZER, type Adapter, type AdapterConfig, type AdapterName, type CottaOptions, type CottaTarget, type TentOptions } from "./adapters.js";
export { cottaAugment, type AugmentOptions } from "./augment.js";
export { meanEntropy, meanMaxSoftmax, softTargetCrossEntropy } from "./losses.js";
export { batchNormAffineKeys, logitsOf, normalizeInput, type SourceModel } from "./model.js";
export { adaptOnline, DomainScorer, withoutLabels, type OnlineOptions } from "./online.js";
export { emaUpdate, restoreMask, restoreValues, stochasticRestore } from "./restore.js";
