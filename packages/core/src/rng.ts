/**
 * Seeded random numbers with named, independent streams.
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c),
 * 32-bit arithmetic so it is exact in JavaScript. A stream's 128-bit state is filled by
 * splitmix32 from a 32-bit key derived from (run seed, stream name) with FNV-1a, so adding a
 * new stream never shifts the numbers of another one: `rng.stream("buffer")` draws the same
 * sequence whether or not `rng.stream("init")` was used before it.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(text: string, hash = FNV_OFFSET): number {
  let h = hash >>> 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h = Math.imul(h ^ (c & 0xff), FNV_PRIME) >>> 0;
    h = Math.imul(h ^ (c >>> 8), FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** splitmix32 step (Vigna): returns [output, nextState]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [(z ^ (z >>> 16)) >>> 0, next];
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Serializable state of one stream: four uint32 words plus a cached normal deviate. */
export interface RandomStreamState {
  s: [number, number, number, number];
  spareNormal: number | null;
}

/** One deterministic random stream. Not cryptographic. */
export class RandomStream {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  /** Build a stream from a 32-bit key (use `SeededRng.stream(name)` instead of calling this). */
  constructor(key: number) {
    let st = key >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [out, next] = splitmix32(st);
      words.push(out);
      st = next;
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /** Next uniformly distributed uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`RandomStream.int: n must be a positive integer, got ${n}`);
    if (n <= 0x100000000) {
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const x = this.nextUint32();
        if (x < limit) return x % n;
      }
    }
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  intRange(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`RandomStream.intRange: hi (${hi}) < lo (${lo})`);
    return lo + this.int(hi - lo + 1);
  }

  /** Uniform float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal deviate (Marsaglia polar method; the spare value is part of the state). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return mean + std * v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + std * u * f;
  }

  /** Bernoulli draw with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** k distinct indices from [0, n), in random order (partial Fisher-Yates). */
  sampleIndices(n: number, k: number): number[] {
    if (k > n) throw new RangeError(`RandomStream.sampleIndices: k (${k}) > n (${n})`);
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const tmp = pool[i] as number;
      pool[i] = pool[j] as number;
      pool[j] = tmp;
    }
    return pool.slice(0, k);
  }

  /** Fill a Float32Array with N(mean, std) deviates. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fill a Float32Array with U[lo, hi) deviates. */
  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  getState(): RandomStreamState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spareNormal };
  }

  setState(state: RandomStreamState): void {
    [this.s0, this.s1, this.s2, this.s3] = state.s.map((x) => x >>> 0) as [number, number, number, number];
    this.spareNormal = state.spareNormal;
  }
}

/**
 * The run's random source. Every random choice in Mnemo goes through a named stream of it:
 * "stream" (class order), "init" (weights), "batching", "buffer", "augment", ...
 */
/** Named random streams: a `SeededRng`, or one component's scope of it (`rng.scope("er")`). */
export interface RandomStreams {
  stream(name: string): RandomStream;
}

export class SeededRng implements RandomStreams {
  readonly seed: number;
  private readonly streams = new Map<string, RandomStream>();

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed must be a non-negative safe integer, got ${seed}`);
    }
    this.seed = seed;
  }

  /** The stream with this name (created on first use, then the same object). */
  stream(name: string): RandomStream {
    let s = this.streams.get(name);
    if (!s) {
      s = new RandomStream(streamKey(this.seed, name));
      this.streams.set(name, s);
    }
    return s;
  }

  /**
   * The streams of one component, named `<prefix>/<name>` (`rng.scope("er").stream("buffer")` is
   * `rng.stream("er/buffer")`): each plugin draws from its own streams, so adding a plugin never
   * changes another's draws. They are part of `snapshot()` like every registered stream.
   */
  scope(prefix: string): RandomStreams {
    return { stream: (name) => this.stream(`${prefix}/${name}`) };
  }

  /** A fresh, independent stream that is not registered (e.g. one per task: `derive("init/task3")`). */
  derive(name: string): RandomStream {
    return new RandomStream(streamKey(this.seed, name));
  }

  /** State of every stream used so far, for checkpoints. */
  snapshot(): Record<string, RandomStreamState> {
    const out: Record<string, RandomStreamState> = {};
    for (const [name, s] of this.streams) out[name] = s.getState();
    return out;
  }

  /** Restore streams from `snapshot()`. */
  restore(snapshot: Record<string, RandomStreamState>): void {
    for (const [name, state] of Object.entries(snapshot)) this.stream(name).setState(state);
  }
}

/** 32-bit key of stream `name` under `seed` (seed split in two 32-bit halves so large seeds differ). */
export function streamKey(seed: number, name: string): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x100000000) >>> 0;
  let h = fnv1a(name);
  h = Math.imul(h ^ lo, FNV_PRIME) >>> 0;
  h = fnv1a(String(hi), h);
  return splitmix32(h)[0];
}
