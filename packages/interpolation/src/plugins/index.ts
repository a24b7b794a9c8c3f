/**
 * Weight-interpolation components as learner plugins (the config's `plugins:` entries
 * `momentum_interpolation`, `wise_ft`, `soup`). Kept apart from the root entry, which holds the
 * plain tree operations.
 */
export { MomentumInterpolation, growInto, type MomentumInterpolationOptions } from "../momentum.js";
export { wiseFtPlugin, type WiseFtChoice, type WiseFtPlugin, type WiseFtPluginOptions } from "./wise-ft.js";
export { soupPlugin, type SoupPlugin, type SoupPluginOptions, type SoupRecipe, type SoupReport } from "./soup.js";
export { HeldOut, MissingValidationError, type HeldOutScope } from "./held-out.js";
