export { mlp, type MlpOptions } from "./backbones/mlp.js";
export { kaimingConv, kaimingLinear, linearWeight } from "./layers/init.js";
export { growHead as growLinearHead } from "./layers/linear.js";
export { createOptimizer, type Optimizer, type OptimizerConfig, type OptimizerState, type SgdConfig, type AdamConfig } from "./train/optimizers.js";
export { learningRate, type ScheduleConfig, type WarmupConfig } from "./train/schedules.js";
export { SupervisedLearner, crossEntropy, imagesInSteps, type SupervisedLearnerOptions, type TrainingConfig } from "./train/supervised-learner.js";
export * from "./backbones/index.js";
export * from "./checkpoint/index.js";
export { cosineHead, cosineLogits, l2Normalize, type CosineHeadOptions } from "./heads/cosine.js";
