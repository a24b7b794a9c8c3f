/**
 * What the page runs: Split-MNIST (5 tasks of 2 digits, class-incremental, expanding head) on a
 * small subset, a 1-hidden-layer MLP, fine-tuning (the lower bound: it forgets) and experience
 * replay (a reservoir of 200 images), one epoch per task. The same objects drive the Node run
 * the e2e test compares with (tests/e2e/browser-example.test.ts).
 */
import type { BackendChoice } from "@mnemo/core";

export type MethodConfig = { name: "finetune" } | { name: "er"; memory_size: number };

export interface BrowserRunConfig {
  name: string;
  seed: number;
  stream: {
    kind: "class-incremental";
    dataset: { name: "mnist-subset"; train_per_class: number; test_per_class: number };
    /** Classes per task, in the dataset's order (0-1, 2-3, ...). */
    increment: number;
    normalize: { mean: number[]; std: number[] };
  };
  model: { backbone: "mlp"; hidden: number[]; head: "expanding" };
  method: MethodConfig;
  training: { epochs: number; batch_size: number; lr: number; optimizer: { name: "adam" } };
  /** future_tasks: false leaves R[i][j] for j > i empty (an expanding head cannot predict unseen classes anyway). */
  evaluation: { batch_size: number; future_tasks: boolean };
  /** As in a run config: "auto" or a backend by name (the page's `?backend=` sets it). */
  backend: BackendChoice;
}

/** Images per digit in the page's subset (train / test): 10 x 200 + 10 x 100 images, 2.4 MB. */
export const SUBSET = { trainPerClass: 200, testPerClass: 100 } as const;

const base: Omit<BrowserRunConfig, "name" | "method"> = {
  seed: 0,
  stream: {
    kind: "class-incremental",
    dataset: { name: "mnist-subset", train_per_class: SUBSET.trainPerClass, test_per_class: SUBSET.testPerClass },
    increment: 2,
    normalize: { mean: [0.1307], std: [0.3081] },
  },
  model: { backbone: "mlp", hidden: [256], head: "expanding" },
  training: { epochs: 1, batch_size: 32, lr: 0.001, optimizer: { name: "adam" } },
  evaluation: { batch_size: 500, future_tasks: false },
  backend: "auto",
};

/** The page's two runs: the same stream and model, without and with replay. */
export const DEFAULT_RUNS: readonly BrowserRunConfig[] = [
  { ...base, name: "browser-split-mnist-finetune", method: { name: "finetune" } },
  { ...base, name: "browser-split-mnist-er", method: { name: "er", memory_size: 200 } },
];
