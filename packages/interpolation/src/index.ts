export { wiseFt, WISE_FT_ALPHAS } from "./wise-ft.js";
export { uniformSoup, greedySoup, type Ingredient, type GreedySoupResult, type GreedySoupStep } from "./soups.js";
export { MomentumInterpolation, type MomentumInterpolationOptions } from "./momentum.js";
