/** A SupervisedLearner that also releases what its plugins hold (core's Plugin has no dispose hook). */
import { SupervisedLearner, type SupervisedLearnerOptions } from "@mnemo/models";
import type { Plugin } from "@mnemo/core";

export interface DisposablePlugin extends Plugin {
  dispose?(): void;
}

export class ReplayLearner extends SupervisedLearner {
  private readonly owned: DisposablePlugin[];

  constructor(options: SupervisedLearnerOptions & { plugins: DisposablePlugin[] }) {
    super(options);
    this.owned = options.plugins;
  }

  override dispose(): void {
    super.dispose();
    for (const p of this.owned) p.dispose?.();
  }
}
