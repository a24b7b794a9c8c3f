/**
 * Replay methods on Mnemo's Experiment/Learner/Plugin contract (tfjs): ER, DER++, iCaRL as plugins of a
 * SupervisedLearner; GDumb and joint training as learners. Kept apart from the buffers' tfjs-free entry.
 */
export { experienceReplay, ER_BUFFER_KINDS, type ErBufferKind, type ExperienceReplayOptions, type ExperienceReplayPlugin } from "./er.js";
export { derpp, logitMatchingLoss, type DerppOptions, type DerppPlugin } from "./derpp.js";
export { icarl, type IcarlDistillation, type IcarlOptions, type IcarlPlugin } from "./icarl.js";
export { knowledgeDistillation, icarlBinaryLoss } from "./distillation.js";
export { GDumbLearner, type GDumbLearnerOptions } from "./gdumb.js";
export { JointLearner } from "./joint.js";
export { RetrainLearner, type RetrainLearnerOptions } from "./retrain-learner.js";
export { packRows as packImages, pickLabels } from "@mnemo/core";
export { appendRows, replayImages, reweightCrossEntropy, rowCrossEntropy, type Augment } from "./replay-batch.js";
export { bufferContents, concatImageSets } from "./image-sets.js";
