export { Maml, type MamlOptions, type EpisodeBatch, type EpisodeData } from "./maml.js";
export { MamlCon, type MamlConOptions, type ClassEpisode, type LabelledSet, type InnerStepInfo } from "./mamlcon.js";
export { Oml, type OmlOptions } from "./oml.js";
export { crossEntropy, expTwice } from "./cross-entropy.js";
export { MetaLearner, meanAndCi95, type MetaLearnerOptions, type EpisodicScore, type MetaHistory } from "./learner.js";
export { ContinualMetaLearner, type ContinualMetaLearnerOptions, type ContinualRecord } from "./continual-learner.js";
