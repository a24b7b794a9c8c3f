import { ShapeError } from "@mnemo/core/errors";
import { isPositiveInt } from "./layout.js";

/**
 * How exemplar memory is split over classes. Frameworks disagree here silently (frameworks.md §A2), so
 * the choice is always spelled out:
 *
 * - `fixed-total`: the memory holds at most `total` samples, split over the classes seen so far (k);
 *   old classes shrink when new ones arrive. `rounding` says how `total / k` becomes a per-class quota:
 *   - `"floor-spread"`: ⌊total/k⌋, plus one for the first `total mod k` classes (in order of first
 *     appearance). Uses the memory exactly (Avalanche `ClassBalancedBuffer`, adaptive).
 *   - `"floor"`: ⌊total/k⌋ for every class; up to k−1 slots stay unused (PyCIL, Mammoth, Continuum).
 *   - `"ceil"`: ⌈total/k⌉ for every class, the iCaRL original and FACIL; the total can exceed `total`
 *     by up to k−1 samples (the slab is sized for that worst case).
 * - `per-class`: every class keeps `perClass` samples and the memory grows with the classes
 *   (PyCIL `fixed_memory=true`); the slab is sized for `numClasses` classes.
 */
export type MemoryPolicy =
  { kind: "fixed-total"; total: number; rounding: "floor-spread" | "floor" | "ceil" } | { kind: "per-class"; perClass: number };

export function checkPolicy(policy: MemoryPolicy, owner: string): void {
  if (policy.kind === "fixed-total") {
    if (!isPositiveInt(policy.total)) throw new ShapeError(`${owner}: memory policy total must be a positive integer, got ${policy.total}`);
    if (policy.rounding !== "floor-spread" && policy.rounding !== "floor" && policy.rounding !== "ceil") {
      throw new ShapeError(
        `${owner}: memory policy rounding must be "floor-spread", "floor" or "ceil", got ${JSON.stringify(policy.rounding)}`,
      );
    }
  } else if (policy.kind === "per-class") {
    if (!isPositiveInt(policy.perClass))
      throw new ShapeError(`${owner}: memory policy perClass must be a positive integer, got ${policy.perClass}`);
  } else {
    throw new ShapeError(
      `${owner}: memory policy kind must be "fixed-total" or "per-class", got ${JSON.stringify((policy as { kind: unknown }).kind)}`,
    );
  }
}

/** A copy with a fixed key order, so policies compare equal as JSON. */
export function canonicalPolicy(policy: MemoryPolicy): MemoryPolicy {
  return policy.kind === "per-class"
    ? { kind: "per-class", perClass: policy.perClass }
    : { kind: "fixed-total", total: policy.total, rounding: policy.rounding };
}

/**
 * Quota of the class at `index` (0-based, in order of first appearance) when `seenClasses` classes are known.
 * For every policy the quota of a given class never grows as more classes arrive, which is what lets
 * per-class reservoirs and herding prefixes shrink without ever needing samples they dropped.
 */
export function classQuota(policy: MemoryPolicy, seenClasses: number, index: number): number {
  if (!isPositiveInt(seenClasses) || !Number.isInteger(index) || index < 0 || index >= seenClasses) {
    throw new ShapeError(`classQuota: need 0 ≤ index < seenClasses, got index ${index} of ${seenClasses}`);
  }
  if (policy.kind === "per-class") return policy.perClass;
  const { total, rounding } = policy;
  const base = Math.floor(total / seenClasses);
  switch (rounding) {
    case "floor":
      return base;
    case "ceil":
      return Math.ceil(total / seenClasses);
    case "floor-spread":
      return base + (index < total % seenClasses ? 1 : 0);
  }
}

/** Quotas of all `seenClasses` classes, in order of first appearance. */
export function classQuotas(policy: MemoryPolicy, seenClasses: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < seenClasses; i++) out.push(classQuota(policy, seenClasses, i));
  return out;
}

/** Slots needed so that the policy never runs out, for up to `numClasses` classes. */
export function policyCapacity(policy: MemoryPolicy, numClasses: number): number {
  if (policy.kind === "per-class") return policy.perClass * numClasses;
  if (policy.rounding !== "ceil") return policy.total; // floor-spread sums to total; floor never exceeds it
  let worst = 0;
  for (let k = 1; k <= numClasses; k++) worst = Math.max(worst, Math.ceil(policy.total / k) * k);
  return worst;
}
