/** Learning-rate schedules as pure functions of progress (epoch + fraction of the epoch). */
export type ScheduleConfig =
  | { name: "constant" }
  | { name: "step"; stepSize: number; gamma?: number }
  | { name: "multistep"; milestones: number[]; gamma?: number }
  | { name: "cosine"; minLr?: number };

export interface WarmupConfig {
  /** Linear warm-up length in epochs (fractional allowed). */
  epochs: number;
  /** Starting factor of the base lr. */
  startFactor?: number;
}

/**
 * Learning rate at `epoch` (may be fractional: epoch 2.5 = half-way through the third epoch).
 * Step-type schedules change at whole epochs, as torch's per-epoch schedulers do.
 */
export function learningRate(baseLr: number, schedule: ScheduleConfig, epoch: number, totalEpochs: number, warmup?: WarmupConfig): number {
  let lr: number;
  const e = Math.floor(epoch);
  switch (schedule.name) {
    case "constant":
      lr = baseLr;
      break;
    case "step":
      lr = baseLr * (schedule.gamma ?? 0.1) ** Math.floor(e / schedule.stepSize);
      break;
    case "multistep":
      lr = baseLr * (schedule.gamma ?? 0.1) ** schedule.milestones.filter((m) => e >= m).length;
      break;
    case "cosine": {
      const minLr = schedule.minLr ?? 0;
      lr = minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos((Math.PI * e) / Math.max(1, totalEpochs)));
      break;
    }
  }
  if (warmup && epoch < warmup.epochs) {
    const start = warmup.startFactor ?? 0.1;
    lr *= start + (1 - start) * (epoch / warmup.epochs);
  }
  return lr;
}
