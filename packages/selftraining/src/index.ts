export {
  softmax,
  argmaxRows,
  softmaxMax,
  softmaxMargin,
  softmaxEntropy,
  entropyConfidence,
  tSimilarity,
  classwiseTSimilarity,
  expectedCalibrationError,
  type ConfidenceName,
  type CalibrationBin,
} from "./confidence.js";
export { selectByThreshold, selectByCurriculum, selectByMsta, mstaThresholds, jointBayesRisk, selectPseudoLabels, quantileType7, type PseudoLabelPolicy } from "./policies.js";
export {
  ENSEMBLE_PREFIX,
  headPrefix,
  isEnsembleKey,
  ensureEnsembleHeads,
  ensembleLogits,
  tSimilarityTensor,
  diversityLoss,
  headsCrossEntropy,
  ensembleLoss,
  stopGradient,
} from "./ensemble.js";
export { softCrossEntropy, mixupCrossEntropy, mixInputs, priorRegulariser, entropyRegulariser, betaSample } from "./arazo.js";
export {
  SelfTrainingPlugin,
  selfTraining,
  ensembleKeys,
  SELF_TRAINING_DEFAULTS,
  type SelfTrainingOptions,
  type RoundRecord,
  type UnlabelledScores,
  type PseudoLabelSink,
} from "./plugin.js";
