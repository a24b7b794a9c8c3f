/**
 * A method from a user's own package: L2 regularisation towards the weights at the end of the
 * previous task (the "L2" baseline of Kirkpatrick et al. 2017, EWC with an identity Fisher):
 *
 *   loss = CE + (λ / 2) · Σ_k ||θ_k − θ*_k||²   over the layers whose shape did not change
 *
 * A config uses it with `imports: ["./index.ts"]` and `method: { name: l2_anchor, lambda: ... }`.
 */
import * as tf from "@tensorflow/tfjs";
import { disposeTree, type ParamTree, type Plugin } from "@mnemo/core";
import { cloneTree } from "@mnemo/core/tf";
import { commonLearnerOptions, defineMethod, type Registry } from "@mnemo/experiment";
import { SupervisedLearner } from "@mnemo/models";
import { z } from "zod";

export function l2Anchor(lambda: number): Plugin {
  let anchor: ParamTree | null = null;
  return {
    name: "l2_anchor",
    lossTerms({ params }) {
      if (!anchor || lambda === 0) return;
      const a = anchor;
      return tf.tidy(() => {
        let sum = tf.scalar(0);
        for (const [k, star] of Object.entries(a)) {
          const theta = params[k];
          // The head grows with new classes: its old columns are not compared (shapes differ).
          if (!theta || theta.shape.join() !== star.shape.join()) continue;
          sum = tf.add(sum, tf.sum(tf.square(tf.sub(theta, star))));
        }
        return tf.mul(sum, lambda / 2) as tf.Scalar;
      });
    },
    onTaskEnd({ model }) {
      disposeTree(anchor);
      anchor = cloneTree(model.params);
    },
    state: () => ({ anchor }),
    loadState(state) {
      disposeTree(anchor);
      anchor = (state.anchor as ParamTree | null) ?? null;
    },
    dispose() {
      disposeTree(anchor);
      anchor = null;
    },
  };
}

export const l2AnchorMethod = defineMethod({
  name: "l2_anchor",
  description: "L2 towards the previous task's weights (EWC with an identity Fisher)",
  schema: z.strictObject({
    name: z.literal("l2_anchor"),
    lambda: z.number().min(0).default(1).describe("λ, the weight of the L2 penalty"),
  }),
  acceptsPlugins: true,
  build: (config, ctx) => ({
    learner: new SupervisedLearner({ ...commonLearnerOptions(ctx), plugins: [l2Anchor(config.lambda), ...ctx.plugins], name: "l2_anchor" }),
  }),
});

/** Called by Mnemo when a config lists this module under `imports:`. */
export function register(registry: Registry): void {
  if (!registry.method(l2AnchorMethod.name)) registry.registerMethod(l2AnchorMethod);
}
