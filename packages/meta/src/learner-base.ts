/**
 * What the episodic meta-learners (MAML/FOMAML/ANIL and MAMLCon/OML) share: one parameter tree,
 * initialised once from the run's "init" stream and meta-learned; transductive batch norm (batch
 * statistics only, the running ones are never updated); and the Ctrl-C check.
 */
import type * as tf from "@tensorflow/tfjs";
import { disposeTree, type Backbone, type ParamTree, type SeededRng } from "@mnemo/core";

export abstract class MetaLearnerBase {
  protected params?: ParamTree;
  protected bnState: ParamTree = {};
  protected shouldStop?: () => boolean;

  constructor(private readonly net: { backbone: Backbone; rng: SeededRng }) {}

  /** Installs the check run after every meta-iteration (Ctrl-C handling). */
  setShouldStop(check: () => boolean): void {
    this.shouldStop = check;
  }

  /** The meta-learned parameters (created when meta-training starts). */
  get model(): { params: ParamTree } {
    if (!this.params) throw new Error("the meta-learner's parameters exist once meta-training has started");
    return { params: this.params };
  }

  protected forward(p: ParamTree, x: tf.Tensor, differentiableTwice: boolean): tf.Tensor2D {
    const out = this.net.backbone.apply(p, x, { training: true, state: this.bnState, differentiableTwice });
    if (out.state) disposeTree(out.state); // transductive BN: batch statistics only
    return out.logits;
  }

  /** Creates the parameters on first use, with `outputs` head units. */
  protected ensureModel(outputs: number): void {
    if (this.params) return;
    const { params, state } = this.net.backbone.init(this.net.rng.stream("init"), outputs);
    this.params = params;
    this.bnState = state;
  }
}
