import { z } from "zod";

/** `dataset:` inside a stream section. Data-generating seeds are fixed per dataset, not per run. */
const cifarFilesSchema = z
  .array(z.string().min(1))
  .min(1)
  .optional()
  .describe("Binary batch files to read instead of the official ones (names inside the release folder or archive, or absolute paths), for a custom split");

export const datasetConfigSchema = z
  .discriminatedUnion("name", [
    z.strictObject({
      name: z.literal("cifar10").describe("CIFAR-10 binary release (60k 32x32 RGB, 10 classes)"),
      train_files: cifarFilesSchema.describe("Train batch files (default data_batch_1.bin .. data_batch_5.bin)"),
      test_files: cifarFilesSchema.describe("Test batch files (default test_batch.bin)"),
    }),
    z.strictObject({
      name: z.literal("cifar100").describe("CIFAR-100 binary release (60k 32x32 RGB)"),
      labels: z.enum(["fine", "coarse"]).default("fine").describe("100 fine classes or 20 coarse superclasses"),
      train_files: cifarFilesSchema.describe("Train files (default train.bin)"),
      test_files: cifarFilesSchema.describe("Test files (default test.bin)"),
    }),
    z.strictObject({ name: z.literal("mnist").describe("MNIST idx files (60k/10k 28x28 grey)") }),
    z.strictObject({ name: z.literal("fashion-mnist").describe("Fashion-MNIST idx files (60k/10k 28x28 grey)") }),
    z.strictObject({
      name: z.literal("omniglot").describe("Omniglot release zips (images_background.zip, images_evaluation.zip): 1623 characters x 20 drawings, background characters first"),
      size: z.number().int().min(8).max(105).default(28).describe("Side of the resized (area-averaged, inverted) images; 28 as in MAML"),
    }),
    z.strictObject({
      name: z.literal("folder").describe("User images in class sub-folders (PNG/JPEG, one size)"),
      path: z.string().min(1).describe("Root folder: train/<class>/, test/<class>/ or just <class>/"),
      channels: z.union([z.literal(1), z.literal(3)]).default(3).describe("1 = grey, 3 = RGB"),
      test_fraction: z.number().min(0).max(0.9).default(0.2).describe("Held-out fraction per class when there is no test/ folder"),
      seed: z.number().int().nonnegative().default(0).describe("Seed of the held-out test selection"),
    }),
    z.strictObject({
      name: z.literal("synthetic-blobs").describe("Gaussian blobs stored as [1,1,dim] uint8 'images', for fast tests"),
      num_classes: z.number().int().min(2).default(10).describe("Number of classes (blobs)"),
      dim: z.number().int().min(1).default(16).describe("Feature dimension (the 'image' is [1, 1, dim])"),
      train_per_class: z.number().int().min(1).default(50).describe("Training samples per class"),
      test_per_class: z.number().int().min(1).default(20).describe("Test samples per class"),
      noise: z.number().nonnegative().default(10).describe("Noise std in uint8 units"),
      seed: z.number().int().nonnegative().default(0).describe("Data seed (independent of the run seed)"),
    }),
    z.strictObject({
      name: z.literal("synthetic-images").describe("Per-class smooth patterns plus noise, for fast image tests"),
      num_classes: z.number().int().min(2).default(10).describe("Number of classes (patterns)"),
      shape: z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]).default([32, 32, 3]).describe("[height, width, channels]"),
      train_per_class: z.number().int().min(1).default(20).describe("Training images per class"),
      test_per_class: z.number().int().min(1).default(10).describe("Test images per class"),
      noise: z.number().nonnegative().default(20).describe("Noise std in uint8 units"),
      seed: z.number().int().nonnegative().default(0).describe("Data seed (independent of the run seed)"),
    }),
  ])
  .describe("Which dataset the stream is cut from");

export type DatasetConfig = z.output<typeof datasetConfigSchema>;
export type NormalizeConfig = z.output<typeof normalizeSchema>;

const orderSchema = z
  .union([z.enum(["random", "dataset", "icarl", "pycil"]), z.array(z.number().int().nonnegative()).min(1)])
  .describe(
    "Class order: random (seeded), dataset (0..n-1), icarl / pycil (the two CIFAR-100 'seed 1993' orders), or an explicit list of class ids",
  );

const validationSchema = z
  .strictObject({
    fraction: z.number().min(0).lt(1).optional().describe("Fraction of each class's training images held out for validation (0: none)"),
    per_class: z.number().int().min(0).optional().describe("Training images per class held out for validation (0: none)"),
    stream: z.string().min(1).default("validation").describe("Name of the RNG stream that picks the held-out images"),
  })
  .refine((v) => (v.fraction === undefined) !== (v.per_class === undefined), {
    message: "give exactly one of validation.fraction and validation.per_class (0 turns the split off explicitly)",
  })
  .describe("Validation split carved from train, per class (use it for model selection, never the test set)");

const channelValues = z.union([z.number(), z.array(z.number()).min(1)]);

export const normalizeSchema = z
  .union([
    z.enum(["dataset", "none"]),
    z.tuple([channelValues, channelValues]).describe("[mean, std] on the 0..1 scale: one number for every channel or one per channel"),
  ])
  .describe("Input normalisation: dataset (its published per-channel mean/std; the default), none (pixels / 255 only), or [mean, std]");

const splitFilesSchema = z
  .strictObject({
    train: z.string().min(1).describe("Text file of 0-based indices (whitespace separated) of the training images"),
    test: z.string().min(1).describe("Text file of 0-based indices of the test images"),
  })
  .describe(
    "Custom train/test split by index files. Indices address the dataset's train images followed by its test images " +
      "(i >= number of train images is test image i - that number); the two files must not overlap",
  );

const limitSchema = z
  .union([
    z.number().int().min(1),
    z.strictObject({ train: z.number().int().min(1).optional(), test: z.number().int().min(1).optional() }),
  ])
  .describe("Keep at most this many images per class (seeded sample) for quick runs; a number limits train and test");

/**
 * Semi-supervised tasks: only part of each task's training images keep their label; the rest are
 * delivered as `task.unlabelled` (images only). Selection per task and class, from the run seed.
 */
export const labelsConfigSchema = z
  .strictObject({
    fraction: z.number().gt(0).lte(1).optional().describe("Labelled fraction of each class's training images in each task (at least 1 per class)"),
    per_class: z.number().int().min(1).optional().describe("Labelled images per class per task (all of a class if it has fewer)"),
    selection: z
      .enum(["iid", "ssb"])
      .default("iid")
      .describe("iid: labelled images drawn uniformly per class; ssb: sample-selection bias, P(x) ∝ exp(r·|PC1(x)|) within each class (Odonnat et al. 2024)"),
    ssb_ratio: z.number().positive().default(1 / 3).describe("r of the ssb selection (the T-similarity paper's MNIST value 0.5/1.5)"),
    stream: z.string().min(1).default("labels").describe("Name of the RNG stream that picks the labelled images"),
  })
  .refine((v) => (v.fraction === undefined) !== (v.per_class === undefined), {
    message: "give exactly one of labels.fraction or labels.per_class",
  })
  .describe("Semi-supervised stream: which training images keep their labels (the rest become task.unlabelled)");

export type LabelsConfig = z.output<typeof labelsConfigSchema>;

const common = {
  dataset: datasetConfigSchema,
  validation: validationSchema.optional(),
  limit_per_class: limitSchema.optional(),
  labels: labelsConfigSchema.optional(),
  normalize: normalizeSchema.optional(),
  split_files: splitFilesSchema.optional(),
};

const incrementSchema = z
  .union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1)])
  .describe("Classes per task, or the list of task sizes (must sum to the number of classes)");

const classSplit = {
  order: orderSchema.default("random"),
  order_seed: z.number().int().nonnegative().optional().describe("Seed for order: random (default: the run seed, stream 'stream-order')"),
  increment: incrementSchema,
  initial_increment: z.number().int().min(1).optional().describe("Classes in the first task (default: increment)"),
  remainder: z
    .enum(["error", "first", "last", "extra-task"])
    .default("error")
    .describe("Where classes go that do not fill a whole increment: error, the first task, the last task, or one extra task"),
};

export const classIncrementalSchema = z.strictObject({
  kind: z.literal("class-incremental").describe("New classes per task, one head, no task id at test time"),
  ...common,
  ...classSplit,
  online: z
    .strictObject({
      blurry: z.number().min(0).lt(1).default(0).describe("Fraction of each task's training samples moved to other tasks (blurry boundaries)"),
    })
    .optional()
    .describe("Online setting: each sample is seen once (single pass); optionally blurry task boundaries"),
});

export const taskIncrementalSchema = z.strictObject({
  kind: z.literal("task-incremental").describe("Like class-incremental, but the task id is given at test time"),
  ...common,
  ...classSplit,
});

export const domainIncrementalSchema = z.strictObject({
  kind: z.literal("domain-incremental").describe("Same classes in every task, the input distribution changes"),
  ...common,
  transform: z
    .discriminatedUnion("type", [
      z.strictObject({
        type: z.literal("permuted").describe("One seeded pixel permutation per task (stream 'stream-permutation')"),
        tasks: z.number().int().min(1).describe("Number of tasks"),
        identity_first: z.boolean().default(false).describe("Task 0 uses the unpermuted images"),
      }),
      z.strictObject({
        type: z.literal("rotated").describe("Each task rotates every image by one angle"),
        angles: z.array(z.number()).min(1).describe("Rotation angle in degrees for each task"),
      }),
    ])
    .describe("How each task transforms the images"),
});

/**
 * Domain-incremental stream of corrupted copies of one dataset (MNIST-C / CIFAR-10-C style): one
 * task per corruption, in the benchmark's fixed order, each task named after its corruption.
 */
export const corruptionsStreamSchema = z.strictObject({
  kind: z.literal("corruptions").describe("One task per corruption of the same images (domain-incremental, CIFAR-10-C / MNIST-C style, generated in code)"),
  ...common,
  corruptions: z
    .union([z.enum(["mnist-c", "cifar10-c"]), z.array(z.string().min(1)).min(1)])
    .optional()
    .describe(
      "mnist-c (MNIST-C's 15, its order), cifar10-c (CoTTA's CIFAR-10-C order without frost: 14), or a list of corruption names; default: mnist-c for grey datasets, cifar10-c for RGB",
    ),
  parameters: z
    .enum(["mnist-c", "cifar10-c"])
    .optional()
    .describe("Whose severity tables to use (default: the preset named in corruptions, else mnist-c for grey datasets and cifar10-c for RGB)"),
  severity: z
    .union([z.number().int().min(1).max(5), z.literal("published")])
    .default("published")
    .describe("1..5 for every corruption, or published: the severity of the benchmark's release (CIFAR-10-C 5; MNIST-C each function's default)"),
  repeats: z.number().int().min(1).default(1).describe("Run the whole sequence this many times (the same corrupted images each time)"),
  clean_first: z.boolean().default(false).describe("Prepend a task 'clean' with the uncorrupted images (e.g. to train the source model)"),
  split: z
    .enum(["all", "test"])
    .default("all")
    .describe("all: train, validation and test images of every domain are corrupted; test: corrupted domains carry only test images (empty train, no validation), as in test-time adaptation"),
  stream: z.string().min(1).default("corruptions").describe("Prefix of the RNG streams the corruptions draw from (<stream>/<corruption>/<split>)"),
});

export const fewShotClassIncrementalSchema = z.strictObject({
  kind: z.literal("few-shot-class-incremental").describe("A base session with many classes, then N-way K-shot sessions"),
  dataset: common.dataset,
  validation: common.validation,
  limit_per_class: common.limit_per_class,
  normalize: common.normalize,
  split_files: common.split_files,
  split: z
    .union([
      z.literal("seeded"),
      z.literal("cifar100-topic"),
      z.strictObject({ index_dir: z.string().min(1).describe("Folder with session_2.txt .. session_N.txt (indices into the train set)") }),
    ])
    .default("seeded")
    .describe("seeded: classes and shots drawn from the run seed; cifar100-topic: the TOPIC/CEC/TEEN index lists shipped with @mnemo/data"),
  order: orderSchema.default("random").describe("Class order for split: seeded (index-file splits use dataset order)"),
  order_seed: z.number().int().nonnegative().optional().describe("Seed of order: random (default: the run seed, stream 'stream-order')"),
  base_classes: z.number().int().min(1).default(60).describe("Classes of the base session (all their training images)"),
  ways: z.number().int().min(1).default(5).describe("New classes per incremental session"),
  shots: z.number().int().min(1).default(5).describe("Training images per new class"),
  sessions: z.number().int().min(1).optional().describe("Incremental sessions after the base one (default: all remaining classes)"),
});

const classSetSchema = z
  .union([z.number().int().min(0), z.array(z.number().int().nonnegative())])
  .describe("A number of classes (taken in `order`) or an explicit list of dataset class ids");

const episodeShape = {
  ways: z.number().int().min(1).default(5).describe("N: classes per episode"),
  shots: z.number().int().min(1).default(1).describe("K: support images per class"),
  queries: z.number().int().min(1).default(15).describe("Q: query images per class (disjoint from the support)"),
};

export const episodicSchema = z.strictObject({
  kind: z.literal("meta-learning").describe("Episodic meta-learning: N-way K-shot episodes over disjoint meta-train / meta-val / meta-test classes"),
  dataset: datasetConfigSchema,
  limit_per_class: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Keep at most this many images per class (seeded sample); a class's train and test images form one pool"),
  classes: z
    .strictObject({
      train: classSetSchema.describe("Meta-train classes: a count (first classes of `order`) or a list"),
      validation: classSetSchema.default(0).describe("Meta-validation classes (checkpoint selection): a count (next in `order`) or a list"),
      test: classSetSchema.describe("Meta-test classes: a count (next in `order`) or a list"),
      order: z.enum(["random", "dataset"]).default("random").describe("How counts pick classes: random (seeded) or dataset order (Omniglot: background alphabets first)"),
      order_seed: z.number().int().nonnegative().optional().describe("Seed of order: random (default: the run seed, stream 'stream-order')"),
    })
    .describe("The class split; the three sets must be disjoint"),
  rotations: z
    .array(z.number())
    .min(1)
    .optional()
    .describe("Each class rotated by each angle (degrees) becomes its own class in the same split (Omniglot: [0, 90, 180, 270])"),
  episodes: z.strictObject(episodeShape).prefault({}).describe("Meta-training episodes"),
  test_episodes: z
    .strictObject({ ...episodeShape, count: z.number().int().min(1).default(600).describe("Episodes for meta-test (mean ± 95% CI)") })
    .prefault({})
    .describe("Meta-validation and meta-test episodes (same classes never seen in meta-training)"),
  continual: z
    .strictObject({
      chunks: z.number().int().min(1).default(5).describe("Chunks of novel classes learned one after another"),
      ways: z.number().int().min(1).default(5).describe("Classes per chunk"),
      shots: z.number().int().min(1).default(5).describe("Training images per class"),
      queries: z.number().int().min(1).default(15).describe("Test images per class"),
      repeats: z.number().int().min(1).default(10).describe("Independent sequences drawn from the meta-test classes (the matrix is their mean)"),
    })
    .optional()
    .describe("Continual few-shot evaluation (MAMLCon / OML protocol) on meta-test classes: accuracy matrix over the chunks"),
});

/** The `stream:` section of a run config. */
export const streamConfigSchema = z
  .discriminatedUnion("kind", [classIncrementalSchema, taskIncrementalSchema, domainIncrementalSchema, corruptionsStreamSchema, fewShotClassIncrementalSchema])
  .describe("The task stream: dataset, scenario and how classes/domains are split into tasks");

/** Every stream kind `buildStream` builds: the task streams and episodic meta-learning streams. */
export const anyStreamConfigSchema = z
  .discriminatedUnion("kind", [classIncrementalSchema, taskIncrementalSchema, domainIncrementalSchema, corruptionsStreamSchema, fewShotClassIncrementalSchema, episodicSchema])
  .describe("The task stream: dataset, scenario and how classes/domains are split into tasks (or meta-learning episodes)");
export type AnyStreamConfig = z.output<typeof anyStreamConfigSchema>;
export type AnyStreamConfigInput = z.input<typeof anyStreamConfigSchema>;

export type StreamConfig = z.output<typeof streamConfigSchema>;
/** What a user may write (defaults not yet applied). */
export type StreamConfigInput = z.input<typeof streamConfigSchema>;

/** N-way K-shot episodes for meta-learning (not a task stream). */
export const episodeConfigSchema = z.strictObject({
  ways: z.number().int().min(1).default(5),
  shots: z.number().int().min(1).default(1).describe("Support images per class"),
  queries: z.number().int().min(1).default(15).describe("Query images per class"),
  stream: z.string().min(1).default("episodes").describe("RNG stream the episodes are drawn from"),
});
export type EpisodeConfig = z.output<typeof episodeConfigSchema>;
export type EpisodicStreamConfig = z.output<typeof episodicSchema>;
export type CorruptionsStreamConfig = z.output<typeof corruptionsStreamSchema>;
