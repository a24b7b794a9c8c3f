/**
 * A TaskStream over image sets already in memory: for tests, notebooks and users' own data.
 * Labels must already be 0..numClasses-1; `taskClasses[i]` lists the classes of task i.
 */
import { ShapeError } from "./errors.js";
import { Sha256 } from "./sha256.js";
import type { ImageSet, Scenario, Task, TaskStream } from "./stream.js";

export interface InMemoryStreamOptions {
  name: string;
  scenario?: Scenario;
  train: ImageSet;
  test: ImageSet;
  taskClasses: number[][];
  normalization?: { mean: number[]; std: number[] };
}

export function subsetByClasses(set: ImageSet, classes: readonly number[]): ImageSet {
  const wanted = new Set(classes);
  const [h, w, c] = set.shape;
  const size = h * w * c;
  const idx: number[] = [];
  for (let i = 0; i < set.count; i++) if (wanted.has(set.labels[i] as number)) idx.push(i);
  const images = new Uint8Array(idx.length * size);
  const labels = new Int32Array(idx.length);
  idx.forEach((src, k) => {
    images.set(set.images.subarray(src * size, (src + 1) * size), k * size);
    labels[k] = set.labels[src] as number;
  });
  return { images, labels, count: idx.length, shape: set.shape };
}

export function inMemoryStream(options: InMemoryStreamOptions): TaskStream {
  const { train, test, taskClasses } = options;
  const numClasses = new Set(taskClasses.flat()).size;
  for (const set of [train, test]) {
    for (let i = 0; i < set.count; i++) {
      const y = set.labels[i] as number;
      if (y < 0 || y >= numClasses) throw new ShapeError(`label ${y} at index ${i} is outside 0..${numClasses - 1}`);
    }
  }
  const hash = new Sha256()
    .update(JSON.stringify({ name: options.name, taskClasses, n: [train.count, test.count] }))
    .update(train.images)
    .update(test.images)
    .hex()
    .slice(0, 16);
  const testSets = taskClasses.map((c) => subsetByClasses(test, c));
  return {
    name: options.name,
    scenario: options.scenario ?? "class-incremental",
    numTasks: taskClasses.length,
    numClasses,
    labelMap: Array.from({ length: numClasses }, (_, i) => i),
    taskClasses,
    inputShape: train.shape,
    hash,
    normalization: options.normalization,
    async task(index: number): Promise<Task> {
      const classes = taskClasses[index];
      if (!classes) throw new ShapeError(`task ${index} does not exist (stream has ${taskClasses.length})`);
      return { index, classes, train: subsetByClasses(train, classes), test: testSets[index] as ImageSet };
    },
    async testSet(index: number): Promise<ImageSet> {
      const s = testSets[index];
      if (!s) throw new ShapeError(`task ${index} does not exist (stream has ${taskClasses.length})`);
      return s;
    },
  };
}
