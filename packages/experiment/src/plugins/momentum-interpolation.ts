/**
 * `momentum_interpolation` (Stojanovski, Roth & Akata 2022; algorithms.md §7.3): slow weights that
 * follow the trained ("fast") weights as θ_slow ← τ·θ_slow + (1 − τ)·θ every N optimizer steps, and
 * are the weights every evaluation uses. The fast weights keep training, never reset.
 */
import { positiveInt } from "../config-loader.js";
import { MomentumInterpolation } from "@mnemo/interpolation/plugins";
import { z } from "zod";
import { definePlugin } from "../registry.js";

/**
 * Chosen on Split-MNIST's validation split (cil-mnist-er-momentum.yaml, seed 0, τ ∈ {0.9, 0.99,
 * 0.995, 0.999}; see configs/README.md). FantasticGains' 0.9999 suits long runs: Split-MNIST has ~93
 * steps per task, and at 0.9999 the slow weights would stay ~95 % the initialisation.
 */
export const DEFAULT_TAU = 0.99;

export const momentumInterpolationSchema = z.strictObject({
  name: z.literal("momentum_interpolation").describe("Slow weights θ_slow ← τ·θ_slow + (1 − τ)·θ every N steps, evaluated instead of the trained ones (Stojanovski et al. 2022)"),
  tau: z
    .number({ error: "expected a number in [0, 1]" })
    .min(0, "expected a number in [0, 1]")
    .max(1, "expected a number in [0, 1]")
    .default(DEFAULT_TAU)
    .describe("τ, the slow weights' share per update (0: slow = fast; 1: slow stays at the initialisation); default chosen on Split-MNIST validation"),
  every: positiveInt().default(1).describe("Update the slow weights every N optimizer steps"),
});

export const momentumInterpolationPlugin = definePlugin({
  name: "momentum_interpolation",
  description: "Momentum-based weight interpolation: evaluate with slow (EMA-every-N-steps) weights",
  schema: momentumInterpolationSchema,
  // The slow weights are what gets evaluated: another plugin that also decides that would be overruled.
  provides: ["eval-params"],
  build: (config) => new MomentumInterpolation({ tau: config.tau, every: config.every }),
});
