import { ConfigError } from "@mnemo/core/errors";
import type { Dataset } from "../datasets/types.js";
import type { NormalizeConfig } from "./schema.js";

export interface ChannelNormalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * The per-channel mean/std a stream applies: the dataset's published statistics ("dataset", the
 * default), none (pixels / 255 only, as several MNIST protocols use), or explicit values.
 */
export function resolveNormalization(config: NormalizeConfig | undefined, dataset: Dataset): ChannelNormalization | undefined {
  if (config === undefined || config === "dataset") return dataset.normalization;
  if (config === "none") return undefined;
  const channels = dataset.shape[2];
  const expand = (v: number | number[], what: "mean" | "std"): number[] => {
    const values = typeof v === "number" ? new Array<number>(channels).fill(v) : v;
    if (values.length !== channels) {
      throw new ConfigError(`normalize ${what} has ${values.length} values but ${dataset.name} images have ${channels} channels`, { path: "stream.normalize" });
    }
    if (what === "std" && values.some((s) => !(s > 0))) throw new ConfigError(`normalize std must be positive, got [${values}]`, { path: "stream.normalize" });
    return values;
  };
  return { mean: expand(config[0], "mean"), std: expand(config[1], "std") };
}
