/**
 * Model soups (Wortsman et al., ICML 2022), algorithms.md §7.2.
 * Uniform: the mean of all ingredients. Greedy: ingredients sorted by held-out accuracy; start from
 * the best; add the next one (running mean) only if held-out accuracy STRICTLY improves.
 * "Held-out" means a validation split — never the test set.
 */
import * as tf from "@tensorflow/tfjs";
import { assertSameStructure, disposeTree, type ParamTree, treeKeys } from "@mnemo/core";
import { cloneTree, lerpTree } from "@mnemo/core/tf";
import { ShapeError } from "@mnemo/core/errors";

/** θ = (1/N) Σ θ_i for float entries; integer entries are copied from the first ingredient. */
export function uniformSoup(ingredients: readonly ParamTree[]): ParamTree {
  const first = ingredients[0];
  if (!first) throw new ShapeError("a soup needs at least one ingredient");
  ingredients.forEach((t, i) => assertSameStructure(first, t, `ingredient 0 and ingredient ${i}`));
  const out: ParamTree = {};
  for (const k of treeKeys(first)) {
    out[k] = tf.tidy(() => {
      const x = first[k] as tf.Tensor;
      if (x.dtype !== "float32") return x.clone();
      return tf.div(tf.addN(ingredients.map((t) => t[k] as tf.Tensor)), ingredients.length);
    });
  }
  return out;
}

export interface Ingredient {
  name: string;
  params: ParamTree;
}

export interface GreedySoupStep {
  ingredient: string;
  accepted: boolean;
  /** Held-out accuracy of the candidate soup. */
  accuracy: number;
}

export interface GreedySoupResult {
  params: ParamTree;
  /** Held-out accuracy of the final soup. */
  accuracy: number;
  /** Names of the ingredients in the soup, in the order they were added. */
  members: string[];
  steps: GreedySoupStep[];
}

/**
 * Greedy soup. `heldOut(tree)` returns validation accuracy. Ingredients are ranked by their own
 * held-out accuracy (descending, ties by input order). Returns a new tree; inputs are untouched.
 */
export async function greedySoup(ingredients: readonly Ingredient[], heldOut: (params: ParamTree) => Promise<number>): Promise<GreedySoupResult> {
  if (ingredients.length === 0) throw new ShapeError("a soup needs at least one ingredient");
  const scored: { ingredient: Ingredient; accuracy: number; index: number }[] = [];
  for (const [index, ingredient] of ingredients.entries()) scored.push({ ingredient, accuracy: await heldOut(ingredient.params), index });
  scored.sort((a, b) => b.accuracy - a.accuracy || a.index - b.index);

  const best = scored[0]!;
  let soup = cloneTree(best.ingredient.params);
  let accuracy = best.accuracy;
  const members = [best.ingredient.name];
  const steps: GreedySoupStep[] = [{ ingredient: best.ingredient.name, accepted: true, accuracy }];
  for (const { ingredient } of scored.slice(1)) {
    const k = members.length;
    // Running mean: (k/(k+1))·soup + (1/(k+1))·θ_i.
    const candidate = lerpTree(soup, ingredient.params, 1 / (k + 1));
    const candidateAccuracy = await heldOut(candidate);
    const accepted = candidateAccuracy > accuracy;
    steps.push({ ingredient: ingredient.name, accepted, accuracy: candidateAccuracy });
    if (accepted) {
      disposeTree(soup);
      soup = candidate;
      accuracy = candidateAccuracy;
      members.push(ingredient.name);
    } else {
      disposeTree(candidate);
    }
  }
  return { params: soup, accuracy, members, steps };
}
