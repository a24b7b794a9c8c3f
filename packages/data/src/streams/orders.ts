import { ConfigError } from "@mnemo/core/errors";
import { type RandomStream } from "@mnemo/core/rng";

/**
 * The two CIFAR-100 class orders that papers call "seed 1993" (algorithms.md §2.1). They come
 * from NumPy's legacy MT19937 and cannot be regenerated from our RNG, so they are fixtures.
 */
/** iCaRL original (also PODNet, FACIL `cifar100_icarl`, Avalanche baselines). */
export const ICARL_ORDER: readonly number[] = Object.freeze([
  87, 0, 52, 58, 44, 91, 68, 97, 51, 15, 94, 92, 10, 72, 49, 78, 61, 14, 8, 86, 84, 96, 18, 24, 32, 45, 88, 11, 4, 67, 69, 66, 77,
  47, 79, 93, 29, 50, 57, 83, 17, 81, 41, 12, 37, 59, 25, 20, 80, 73, 1, 28, 6, 46, 62, 82, 53, 9, 31, 75, 38, 63, 33, 74, 27, 22,
  36, 3, 16, 21, 60, 19, 70, 90, 89, 43, 5, 42, 65, 76, 40, 30, 23, 85, 2, 95, 56, 48, 71, 64, 98, 13, 99, 7, 34, 55, 54, 26, 35,
  39,
]);

/** PyCIL / PILOT: `np.random.seed(1993); np.random.permutation(100)`. */
export const PYCIL_ORDER: readonly number[] = Object.freeze([
  68, 56, 78, 8, 23, 84, 90, 65, 74, 76, 40, 89, 3, 92, 55, 9, 26, 80, 43, 38, 58, 70, 77, 1, 85, 19, 17, 50, 28, 53, 13, 81, 45,
  82, 6, 59, 83, 16, 15, 44, 91, 41, 72, 60, 79, 52, 20, 10, 31, 54, 37, 95, 14, 71, 96, 98, 97, 2, 64, 66, 42, 22, 35, 86, 24,
  34, 87, 21, 99, 0, 88, 27, 18, 94, 11, 12, 47, 25, 30, 46, 62, 69, 36, 61, 7, 63, 75, 5, 32, 4, 51, 48, 73, 93, 39, 67, 29, 49,
  57, 33,
]);

export const NAMED_ORDERS = { icarl: ICARL_ORDER, pycil: PYCIL_ORDER } as const;

export type ClassOrderSpec = "random" | "dataset" | "icarl" | "pycil" | number[];

/**
 * Resolve the class order. `random` draws from `stream` (the caller passes the run's
 * "stream-order" stream or one seeded by `order_seed`). An explicit list may be a subset of the
 * classes (it is the user's explicit choice), but must not repeat or leave the label range.
 */
export function resolveClassOrder(spec: ClassOrderSpec, numClasses: number, stream: () => RandomStream, path = "stream.order"): number[] {
  if (spec === "dataset") return Array.from({ length: numClasses }, (_, i) => i);
  if (spec === "random") return stream().permutation(numClasses);
  if (spec === "icarl" || spec === "pycil") {
    if (numClasses !== 100) {
      throw new ConfigError(`order "${spec}" is a CIFAR-100 order (100 classes), but the dataset has ${numClasses} classes`, { path });
    }
    return [...NAMED_ORDERS[spec]];
  }
  const seen = new Set<number>();
  spec.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new ConfigError(`entry ${i} (${c}) is not a class id in 0..${numClasses - 1}`, { path: `${path}[${i}]` });
    }
    if (seen.has(c)) throw new ConfigError(`class ${c} appears twice`, { path: `${path}[${i}]` });
    seen.add(c);
  });
  return [...spec];
}
