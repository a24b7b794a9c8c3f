import { ConfigError } from "@mnemo/core/errors";

export type RemainderPolicy = "error" | "first" | "last" | "extra-task";

/**
 * Task sizes for `numClasses` classes. `increment` may be a list of sizes (must sum to the class
 * count). With an int, the first task gets `initialIncrement` (default `increment`) and every
 * later one `increment`; classes left over go where `remainder` says, never silently dropped.
 */
export function partitionClasses(
  numClasses: number,
  increment: number | number[],
  initialIncrement: number | undefined,
  remainder: RemainderPolicy,
): number[] {
  if (Array.isArray(increment)) {
    if (initialIncrement !== undefined) {
      throw new ConfigError("initial_increment cannot be combined with a list increment (put the first size in the list)", {
        path: "stream.initial_increment",
      });
    }
    const sum = increment.reduce((a, b) => a + b, 0);
    if (sum !== numClasses) {
      throw new ConfigError(`the increments [${increment.join(", ")}] sum to ${sum}, but the order has ${numClasses} classes`, {
        path: "stream.increment",
      });
    }
    return [...increment];
  }
  const first = initialIncrement ?? increment;
  if (first > numClasses) {
    throw new ConfigError(`initial increment ${first} exceeds the ${numClasses} classes`, {
      path: initialIncrement !== undefined ? "stream.initial_increment" : "stream.increment",
    });
  }
  const rest = numClasses - first;
  const full = Math.floor(rest / increment);
  const left = rest % increment;
  const sizes = [first, ...Array.from({ length: full }, () => increment)];
  if (left === 0) return sizes;
  switch (remainder) {
    case "error":
      throw new ConfigError(
        `${numClasses} classes do not split into a first task of ${first} and tasks of ${increment} (${left} left over); ` +
          `change increment/initial_increment or set remainder: first | last | extra-task`,
        { path: "stream.increment" },
      );
    case "first":
      sizes[0] = (sizes[0] as number) + left;
      return sizes;
    case "last":
      sizes[sizes.length - 1] = (sizes[sizes.length - 1] as number) + left;
      return sizes;
    case "extra-task":
      return [...sizes, left];
  }
}
