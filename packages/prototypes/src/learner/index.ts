// The tfjs side of @mnemo/prototypes ("@mnemo/prototypes/learner"): a trainable FSCIL learner
// built on the tfjs-free classifiers of the main entry point.
export { FscilPrototypeLearner, type FscilLearnerOptions, type FscilLearnerState, type TeenSettings } from "./fscil-learner.js";
export { embedSet, type FrozenModel } from "./embed.js";
export { perClassCounts, sessionMetrics } from "./session-metrics.js";
export { SimpleCilLearner, type SimpleCilAdaptation, type SimpleCilLearnerOptions, type SimpleCilLearnerState } from "./simplecil-learner.js";
