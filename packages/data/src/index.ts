export type { Dataset, DownloadProgress, ProgressCallback, LoadOptions } from "./datasets/types.js";
export { loadCifar10, loadCifar100, type CifarOptions } from "./datasets/cifar.js";
export { loadMnist, loadFashionMnist } from "./datasets/mnist.js";
export { loadOmniglot, OMNIGLOT_FILES, OMNIGLOT_URL, type OmniglotOptions } from "./datasets/omniglot.js";
export { readZip, writeZip, type ZipEntry } from "./datasets/zip.js";
export { loadFolder, type FolderOptions } from "./datasets/folder.js";
export { syntheticBlobs, syntheticImages, type BlobsOptions, type SyntheticImagesOptions } from "./datasets/synthetic.js";
export { readIdx } from "./datasets/idx.js";
export { resolveDataDir, resolveDownload } from "./datasets/paths.js";
export { CIFAR10_CLASSES, CIFAR100_FINE_CLASSES, CIFAR100_COARSE_CLASSES } from "./datasets/cifar-names.js";

export {
  streamConfigSchema,
  datasetConfigSchema,
  episodeConfigSchema,
  episodicSchema,
  anyStreamConfigSchema,
  type AnyStreamConfig,
  type AnyStreamConfigInput,
  type EpisodicStreamConfig,
  type StreamConfig,
  type StreamConfigInput,
  type DatasetConfig,
  type EpisodeConfig,
  type NormalizeConfig,
  labelsConfigSchema,
  type LabelsConfig,
  corruptionsStreamSchema,
  type CorruptionsStreamConfig,
} from "./streams/schema.js";
export { buildStream, taskPermutation, type BuildStreamOptions } from "./streams/build.js";
export { loadDataset } from "./streams/load-dataset.js";
export { resolveNormalization, type ChannelNormalization } from "./streams/normalize.js";
export { applySplitFiles, readIndexFile } from "./streams/split-files.js";
export { unlabelledTruth, learnerView, formatTaskSizes, type BuiltStream, type TaskSampleCounts, type TaskSplit } from "./streams/task-stream.js";
export { resolveDomains, CORRUPTIONS_FORMAT, type CorruptionDomain } from "./streams/corrupted.js";
export * from "./corruptions/index.js";
export { labelledCount, ssbWeights, weightedSampleWithoutReplacement, firstComponentProjections, splitLabels } from "./streams/labelling.js";
export { ICARL_ORDER, PYCIL_ORDER } from "./streams/orders.js";
export { partitionClasses, type RemainderPolicy } from "./streams/partition.js";
export { CIFAR100_TOPIC_DIR } from "./streams/fscil.js";
export { canonicalJson } from "./streams/hash.js";
export { EpisodeSampler, type Episode, type EpisodeSamplerOptions } from "./streams/episodes.js";
export { isEpisodicStream, type EpisodicStream, type EpisodeShape, type ContinualFewShotSpec, type ClassSplit } from "./streams/episodic.js";
export { toFloatBatch, labelBatch, batchIndices, type BatchOptions } from "./batching.js";
export { createAugmentation, augmentationConfigSchema, type AugmentationConfig, type Normalization } from "./augment.js";
