/**
 * WiSE-FT (Wortsman et al., CVPR 2022): θ_α = (1 − α)·θ_0 + α·θ_1 over every float entry;
 * integer entries (BN counters) are copied from θ_1 — the explicit policy of algorithms.md §7.4.2.
 */
import type { ParamTree } from "@mnemo/core";
import { lerpTree } from "@mnemo/core/tf";
import { ShapeError } from "@mnemo/core/errors";

export function wiseFt(theta0: ParamTree, theta1: ParamTree, alpha: number): ParamTree {
  if (!(alpha >= 0 && alpha <= 1)) throw new ShapeError(`WiSE-FT mixing coefficient must be in [0, 1], got ${alpha}`);
  return lerpTree(theta0, theta1, alpha);
}

/** The WiSE-FT sweep of the paper's README: α ∈ {0, 0.1, …, 1.0}. */
export const WISE_FT_ALPHAS: readonly number[] = Array.from({ length: 11 }, (_, i) => i / 10);
