import { RandomStream, SeededRng } from "@mnemo/core/rng";

/**
 * A buffer's randomness: either a seed (the buffer then owns the stream "replay" of `new SeededRng(seed)`),
 * or a dedicated stream from the run's RNG, e.g. `rng.stream("buffer")`. A passed stream must not be shared
 * with anything else, or buffer contents stop being a pure function of (seed, stream of samples).
 */
export type RandomSource = number | RandomStream;

export function resolveRandom(source: RandomSource): RandomStream {
  return typeof source === "number" ? new SeededRng(source).stream("replay") : source;
}
