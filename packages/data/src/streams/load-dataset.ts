import { loadCifar10, loadCifar100 } from "../datasets/cifar.js";
import { loadFolder } from "../datasets/folder.js";
import { loadFashionMnist, loadMnist } from "../datasets/mnist.js";
import { loadOmniglot } from "../datasets/omniglot.js";
import { syntheticBlobs, syntheticImages } from "../datasets/synthetic.js";
import type { Dataset, LoadOptions } from "../datasets/types.js";
import type { DatasetConfig } from "./schema.js";

/** Load the dataset named by a (parsed) `dataset:` config section. */
export async function loadDataset(config: DatasetConfig, options: LoadOptions = {}): Promise<Dataset> {
  switch (config.name) {
    case "cifar10":
      return loadCifar10({ ...options, trainFiles: config.train_files, testFiles: config.test_files });
    case "cifar100":
      return loadCifar100({ ...options, labels: config.labels, trainFiles: config.train_files, testFiles: config.test_files });
    case "mnist":
      return loadMnist(options);
    case "fashion-mnist":
      return loadFashionMnist(options);
    case "omniglot":
      return loadOmniglot({ ...options, size: config.size });
    case "folder":
      return loadFolder({ path: config.path, channels: config.channels, testFraction: config.test_fraction, seed: config.seed });
    case "synthetic-blobs":
      return syntheticBlobs({
        numClasses: config.num_classes,
        dim: config.dim,
        trainPerClass: config.train_per_class,
        testPerClass: config.test_per_class,
        noise: config.noise,
        seed: config.seed,
      });
    case "synthetic-images":
      return syntheticImages({
        numClasses: config.num_classes,
        shape: config.shape,
        trainPerClass: config.train_per_class,
        testPerClass: config.test_per_class,
        noise: config.noise,
        seed: config.seed,
      });
  }
}
