import { ShapeError } from "@mnemo/core";
import type { DenseMatrix } from "./dense.js";

/** One cached entry: a task's features (and, usually, its labels). */
export interface CachedFeatures {
  features: DenseMatrix;
  labels?: Int32Array;
}

export interface FeatureCacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  evictions: number;
  /** `set` calls refused because one entry alone exceeds the budget. */
  rejected: number;
}

function sizeOf(v: CachedFeatures): number {
  return v.features.data.byteLength + (v.labels?.byteLength ?? 0);
}

/**
 * Least-recently-used cache of per-task features, bounded by bytes (not entries: tasks differ in size).
 * Lets heads be refit (other NMC variant, other TEEN α/τ) without re-running the backbone.
 * Entries are stored by reference; do not mutate arrays after caching them.
 */
export class FeatureCache<K extends string | number = string> {
  readonly maxBytes: number;
  // Map iteration order is insertion order: re-inserting on access keeps the LRU entry first.
  private readonly entries = new Map<K, CachedFeatures>();
  // In-flight computations, so concurrent requests for one task run the backbone once.
  private readonly pending = new Map<K, Promise<CachedFeatures>>();
  private used = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private rejected = 0;

  constructor(options: { maxBytes: number }) {
    const { maxBytes } = options;
    if (!(maxBytes >= 0) || !Number.isFinite(maxBytes)) throw new ShapeError(`FeatureCache maxBytes must be a finite number ≥ 0, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Keys from least to most recently used. */
  keys(): K[] {
    return [...this.entries.keys()];
  }

  get(key: K): CachedFeatures | undefined {
    const v = this.entries.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  /**
   * Store an entry, evicting least-recently-used ones until it fits. Returns false (and stores nothing)
   * when the entry alone is larger than the budget; the caller still has the value.
   */
  set(key: K, value: CachedFeatures): boolean {
    const size = sizeOf(value);
    if (value.labels !== undefined && value.labels.length !== value.features.rows) {
      throw new ShapeError(`FeatureCache entry ${String(key)}: ${value.labels.length} labels for ${value.features.rows} feature rows`);
    }
    this.delete(key);
    if (size > this.maxBytes) {
      this.rejected++;
      return false;
    }
    while (this.used + size > this.maxBytes) {
      const oldest = this.entries.keys().next().value as K;
      this.delete(oldest);
      this.evictions++;
    }
    this.entries.set(key, value);
    this.used += size;
    return true;
  }

  /** Cached value, or compute, cache (if it fits) and return it. Concurrent calls for one key share one computation. */
  async getOrCompute(key: K, compute: () => CachedFeatures | Promise<CachedFeatures>): Promise<CachedFeatures> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const run = (async () => {
      try {
        const value = await compute();
        this.set(key, value);
        return value;
      } finally {
        this.pending.delete(key);
      }
    })();
    this.pending.set(key, run);
    return run;
  }

  delete(key: K): boolean {
    const v = this.entries.get(key);
    if (v === undefined) return false;
    this.entries.delete(key);
    this.used -= sizeOf(v);
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  stats(): FeatureCacheStats {
    return {
      entries: this.entries.size,
      bytes: this.used,
      maxBytes: this.maxBytes,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      rejected: this.rejected,
    };
  }
}
