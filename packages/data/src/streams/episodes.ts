import { ConfigError } from "@mnemo/core/errors";
import { type RandomStream } from "@mnemo/core/rng";
import type { ImageSet } from "@mnemo/core";
import { indicesByClass } from "./subset.js";

export interface Episode {
  /** Original labels of the episode's classes; episode label k means `classes[k]`. */
  classes: number[];
  /** ways x shots images, labels 0..ways-1. */
  support: ImageSet;
  /** ways x queries images, labels 0..ways-1, disjoint from the support images. */
  query: ImageSet;
  /** Indices into the source set, for checks and logging. */
  supportIndices: Int32Array;
  queryIndices: Int32Array;
}

export interface EpisodeSamplerOptions {
  ways: number;
  shots: number;
  queries: number;
}

/**
 * N-way K-shot episodes (support/query) for meta-learning. Every draw comes from the given
 * stream, so the sequence of episodes is a function of the run seed and the stream name.
 */
export class EpisodeSampler {
  private readonly byClass: Int32Array[];
  private readonly eligible: number[];

  constructor(
    private readonly source: ImageSet,
    private readonly options: EpisodeSamplerOptions,
    private readonly stream: RandomStream,
  ) {
    const numClasses = source.labels.reduce((m, y) => Math.max(m, y + 1), 0);
    this.byClass = indicesByClass(source.labels, numClasses);
    const need = options.shots + options.queries;
    this.eligible = this.byClass.map((ix, c) => (ix.length >= need ? c : -1)).filter((c) => c >= 0);
    if (this.eligible.length < options.ways) {
      throw new ConfigError(
        `only ${this.eligible.length} classes have ${need} images (shots ${options.shots} + queries ${options.queries}); ways ${options.ways} needs more`,
        { path: "episodes.ways" },
      );
    }
  }

  next(): Episode {
    const { ways, shots, queries } = this.options;
    const classes = this.stream.sampleIndices(this.eligible.length, ways).map((k) => this.eligible[k] as number);
    const support: number[] = [];
    const query: number[] = [];
    for (const c of classes) {
      const pool = this.byClass[c] as Int32Array;
      const pick = this.stream.sampleIndices(pool.length, shots + queries);
      pick.forEach((k, j) => (j < shots ? support : query).push(pool[k] as number));
    }
    const supportIndices = Int32Array.from(support);
    const queryIndices = Int32Array.from(query);
    return {
      classes,
      support: this.gather(supportIndices, classes),
      query: this.gather(queryIndices, classes),
      supportIndices,
      queryIndices,
    };
  }

  private gather(indices: Int32Array, classes: number[]): ImageSet {
    const [h, w, c] = this.source.shape;
    const size = h * w * c;
    const local = new Map(classes.map((y, k) => [y, k]));
    const images = new Uint8Array(indices.length * size);
    const labels = new Int32Array(indices.length);
    indices.forEach((i, k) => {
      images.set(this.source.images.subarray(i * size, (i + 1) * size), k * size);
      labels[k] = local.get(this.source.labels[i] as number) as number;
    });
    return { images, labels, count: indices.length, shape: this.source.shape };
  }
}
