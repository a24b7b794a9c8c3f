import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, DataError } from "@mnemo/core/errors";
import { type RandomStream, type SeededRng } from "@mnemo/core/rng";
import type { Dataset } from "../datasets/types.js";
import { isFile } from "../datasets/paths.js";
import { resolveClassOrder, type ClassOrderSpec } from "./orders.js";
import type { StreamConfig } from "./schema.js";
import type { ClassPools } from "./build.js";
import { concatIndices, limitIndices } from "./subset.js";
import type { TaskPlan } from "./task-stream.js";

type FewShotConfig = Extract<StreamConfig, { kind: "few-shot-class-incremental" }>;

/** The TOPIC/CEC CIFAR-100 index lists shipped with this package (session_2.txt .. session_9.txt). */
export const CIFAR100_TOPIC_DIR = fileURLToPath(new URL("../../assets/fscil-cifar100/", import.meta.url));

/** Read `session_s.txt` (one train index per line) for s = 2..sessions+1. */
export function readSessionIndexFiles(dir: string, sessions: number): { file: string; indices: number[] }[] {
  const out: { file: string; indices: number[] }[] = [];
  for (let s = 2; s <= sessions + 1; s++) {
    const file = join(dir, `session_${s}.txt`);
    if (!isFile(file)) throw new DataError(`${file} is missing (few-shot session index list ${s - 1} of ${sessions})`, { file });
    const indices: number[] = [];
    readFileSync(file, "utf8")
      .split(/\r?\n/)
      .forEach((line, n) => {
        const t = line.trim();
        if (t === "") return;
        const v = Number(t);
        if (!Number.isInteger(v) || v < 0) throw new DataError(`${file}:${n + 1}: "${t}" is not a train-set index`, { file });
        indices.push(v);
      });
    out.push({ file, indices });
  }
  return out;
}

/**
 * Check one session's index list: every index inside the train set, exactly `ways` distinct
 * classes with `shots` images each, and exactly the classes the protocol expects.
 */
export function verifySession(
  file: string,
  indices: readonly number[],
  trainLabels: Int32Array,
  expectedClasses: readonly number[],
  shots: number,
): void {
  const counts = new Map<number, number>();
  for (const i of indices) {
    if (i >= trainLabels.length) {
      throw new DataError(`${file}: index ${i} is outside the ${trainLabels.length}-image train set (wrong dataset copy?)`, { file });
    }
    const y = trainLabels[i] as number;
    counts.set(y, (counts.get(y) ?? 0) + 1);
  }
  const got = [...counts.keys()].sort((a, b) => a - b);
  const want = [...expectedClasses].sort((a, b) => a - b);
  const bad = [...counts.entries()].filter(([, n]) => n !== shots);
  if (got.join(",") !== want.join(",") || bad.length > 0 || indices.length !== want.length * shots) {
    const desc = [...counts.entries()].map(([c, n]) => `${c}x${n}`).join(", ");
    throw new DataError(
      `${file}: expected ${want.length} classes [${want.join(", ")}] with ${shots} images each, found ${desc || "nothing"} ` +
        `(the index list does not match this train set: wrong file order or a different CIFAR-100 copy)`,
      { file },
    );
  }
}

export function planFewShot(
  cfg: FewShotConfig,
  dataset: Dataset,
  pools: ClassPools,
  orderStream: () => RandomStream,
  rng: () => SeededRng,
): { labelMap: number[]; plans: TaskPlan[] } {
  const fromFiles = cfg.split !== "seeded";
  if (cfg.split === "cifar100-topic" && dataset.name !== "cifar100") {
    throw new ConfigError(`split "cifar100-topic" indexes the CIFAR-100 train set (fine labels), but the dataset is ${dataset.name}`, {
      path: "stream.split",
    });
  }
  if (fromFiles && cfg.order !== "random" && cfg.order !== "dataset") {
    throw new ConfigError("index-file splits fix the class order (dataset order); remove order", { path: "stream.order" });
  }
  const order = fromFiles ? Array.from({ length: dataset.numClasses }, (_, i) => i) : resolveClassOrder(cfg.order as ClassOrderSpec, dataset.numClasses, orderStream);
  const available = order.length - cfg.base_classes;
  if (available < cfg.ways) {
    throw new ConfigError(`base_classes ${cfg.base_classes} leaves ${available} of ${order.length} classes, fewer than ways ${cfg.ways}`, {
      path: "stream.base_classes",
    });
  }
  const maxSessions = Math.floor(available / cfg.ways);
  const sessions = cfg.sessions ?? maxSessions;
  if (cfg.sessions === undefined && available % cfg.ways !== 0) {
    throw new ConfigError(
      `${available} classes after the base session do not split into ${cfg.ways}-way sessions; set sessions (at most ${maxSessions}) ` +
        `or list the classes to use in order`,
      { path: "stream.ways" },
    );
  }
  if (sessions > maxSessions) {
    throw new ConfigError(`${sessions} sessions of ${cfg.ways} ways need ${sessions * cfg.ways} classes after the base, only ${available} exist`, {
      path: "stream.sessions",
    });
  }
  const used = order.slice(0, cfg.base_classes + sessions * cfg.ways);
  const vOf = (c: number) => (pools.validation ? (pools.validation[c] as Int32Array) : undefined);
  const base = used.slice(0, cfg.base_classes);
  const plans: TaskPlan[] = [
    {
      classes: base.map((_, k) => k),
      train: concatIndices(base.map((c) => pools.train[c] as Int32Array)),
      validation: pools.validation ? concatIndices(base.map((c) => vOf(c) as Int32Array)) : undefined,
      test: concatIndices(base.map((c) => pools.test[c] as Int32Array)),
    },
  ];
  const lists = fromFiles
    ? readSessionIndexFiles(cfg.split === "cifar100-topic" ? CIFAR100_TOPIC_DIR : (cfg.split as { index_dir: string }).index_dir, sessions)
    : undefined;
  for (let s = 0; s < sessions; s++) {
    const first = cfg.base_classes + s * cfg.ways;
    const original = used.slice(first, first + cfg.ways);
    let train: Int32Array;
    if (lists) {
      const { file, indices } = lists[s] as { file: string; indices: number[] };
      verifySession(file, indices, dataset.train.labels, original, cfg.shots);
      train = Int32Array.from(indices).sort();
    } else {
      // Shots come from the validation-free pool so few-shot images never double as validation.
      train = concatIndices(
        original.map((c) => {
          const pool = pools.train[c] as Int32Array;
          if (pool.length < cfg.shots) {
            throw new ConfigError(`class ${c} has ${pool.length} training images, fewer than shots ${cfg.shots}`, { path: "stream.shots" });
          }
          return limitIndices(pool, cfg.shots, rng(), `stream-shots/class${c}`);
        }),
      );
    }
    plans.push({
      classes: original.map((_, j) => first + j),
      train,
      test: concatIndices(original.map((c) => pools.test[c] as Int32Array)),
    });
  }
  return { labelMap: used, plans };
}
