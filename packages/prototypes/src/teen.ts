import { Matrix } from "ml-matrix";
import { CheckpointError, MnemoError, ShapeError } from "@mnemo/core";
import { ClassSums, type ClassSumsState } from "./class-sums.js";
import { checkCols, checkFinite, checkLabels, toDense, toMatrix, type FeatureInput, type LabelInput } from "./dense.js";
import { EmptyClassError } from "./errors.js";
import type { LinearScorer } from "./linear-scores.js";
import { predictLabels, scoreMatrix, scorerFor } from "./prototype-scorer.js";
import { calibrateRows, normalizedBase, resolveCalibration, type TeenCalibrationOptions, type TeenMode } from "./teen-calibration.js";

export interface TeenOptions extends TeenCalibrationOptions {
  /** Default "soft_proto" (the official method). */
  mode?: TeenMode;
  /** T_cls in logits = T·cos(φ(x), w_k) (code `temperature`, 16 on CIFAR-100). Never changes the argmax. */
  temperature?: number;
}

export interface TeenState {
  kind: "teen";
  version: 1;
  /** tau is the string "Infinity" when infinite, so the state survives JSON.stringify. */
  options: { alpha: number; tau: number | "Infinity"; mode: TeenMode; temperature: number };
  base: ClassSumsState;
  /** Calibrated novel prototypes, row-major, in the order of `novelClasses`. */
  novelClasses: number[];
  novelPrototypes: Float64Array;
  /** Session index (1-based) in which each novel class was added. */
  novelSessions: number[];
}

const MODES: readonly TeenMode[] = ["soft_proto", "soft_embed", "hard_proto"];

/**
 * TEEN (Wang et al., NeurIPS 2023; algorithms.md §6): base prototypes are raw class means of the base
 * session; each incremental session adds its new classes' means, calibrated towards the base prototypes
 * only. Earlier prototypes (base or novel) are never touched. Prediction is argmax cosine.
 */
export class TeenClassifier {
  readonly options: Readonly<Required<TeenOptions>>;
  private base = new ClassSums();
  private novel = new Map<number, { proto: Float64Array; session: number }>();
  private sessionCount = 0;
  private cached: { scorer: LinearScorer; labels: Int32Array } | null = null;

  constructor(options: TeenOptions = {}) {
    const { alpha, tau } = resolveCalibration(options);
    const mode = options.mode ?? "soft_proto";
    if (!MODES.includes(mode)) throw new ShapeError(`TEEN mode "${String(mode)}" is not one of ${MODES.join(", ")}`);
    const temperature = options.temperature ?? 16;
    if (!(temperature > 0) || !Number.isFinite(temperature)) throw new ShapeError(`temperature must be finite and > 0, got ${temperature}`);
    this.options = Object.freeze({ alpha, tau, mode, temperature });
  }

  get dim(): number | null {
    return this.base.dim;
  }

  /** Number of incremental sessions added so far (0 = base only). */
  get session(): number {
    return this.sessionCount;
  }

  /** All classes, ascending (base and novel). */
  classes(): number[] {
    return [...this.base.classes(), ...this.novel.keys()].sort((a, b) => a - b);
  }

  baseClasses(): number[] {
    return this.base.classes();
  }

  novelClasses(): number[] {
    return [...this.novel.keys()].sort((a, b) => a - b);
  }

  /**
   * Add base-session training features (test transform) to the raw base prototypes. May be called with
   * several batches; closed once the first incremental session has been added.
   */
  updateBase(features: FeatureInput, labels: LabelInput): void {
    if (this.sessionCount > 0) {
      throw new MnemoError("BASE_CLOSED", `base prototypes are frozen after session ${this.sessionCount} started: novel calibrations depend on them`);
    }
    const x = toDense(features, "base features");
    checkFinite(x, "base features");
    const y = checkLabels(labels, x.rows, "base labels");
    if (this.base.dim !== null) checkCols(x, this.base.dim, "base features");
    this.base.add(x, y);
    this.cached = null;
  }

  /**
   * One incremental session: every label in `labels` is a new class; its prototype is the mean of its
   * shots, calibrated against the base prototypes. Returns the new classes (ascending).
   */
  addSession(features: FeatureInput, labels: LabelInput): number[] {
    if (this.base.dim === null) throw new EmptyClassError(null, "TEEN calibrates against base prototypes; call updateBase() before addSession()");
    const x = toDense(features, "session features");
    checkFinite(x, "session features");
    checkCols(x, this.base.dim, "session features");
    const y = checkLabels(labels, x.rows, "session labels");
    if (x.rows === 0) throw new ShapeError("addSession() got no samples; a session must bring at least one new class");
    const shots = new ClassSums();
    shots.add(x, y);
    const newClasses = shots.classes();
    for (const c of newClasses) {
      if (this.base.has(c) || this.novel.has(c)) {
        throw new MnemoError("CLASS_EXISTS", `class ${c} already has a prototype; FSCIL sessions must bring only new classes (relabel or drop its samples)`);
      }
    }
    const baseClasses = this.base.classes();
    const baseHat = normalizedBase({ data: this.base.means(baseClasses), rows: baseClasses.length, cols: this.base.dim });
    const cal = { alpha: this.options.alpha, tau: this.options.tau };
    const d = this.base.dim;
    let protos: Float64Array;
    if (this.options.mode === "soft_embed") {
      const perShot = calibrateRows(x, baseHat, baseClasses.length, cal, false);
      const calibrated = new ClassSums();
      calibrated.add({ data: perShot, rows: x.rows, cols: d }, y);
      protos = calibrated.means(newClasses);
    } else {
      const means = { data: shots.means(newClasses), rows: newClasses.length, cols: d };
      protos = calibrateRows(means, baseHat, baseClasses.length, cal, this.options.mode === "hard_proto");
    }
    this.sessionCount++;
    newClasses.forEach((c, k) => this.novel.set(c, { proto: protos.slice(k * d, (k + 1) * d), session: this.sessionCount }));
    this.cached = null;
    return newClasses;
  }

  /** Classifier weights in `classes` order: raw means for base classes, calibrated p' for novel ones. */
  prototypes(): { classes: number[]; prototypes: Matrix } {
    const classes = this.classes();
    return { classes, prototypes: toMatrix({ data: this.prototypeData(classes), rows: classes.length, cols: this.base.dim ?? 0 }) };
  }

  /** One class's prototype as stored (see `prototypes`). */
  prototype(label: number): Float64Array {
    const n = this.novel.get(label);
    return n !== undefined ? n.proto.slice() : this.base.mean(label);
  }

  /** T·cos(φ(x), w_k) for every seen class k. */
  logits(features: FeatureInput): { classes: number[]; logits: Matrix } {
    const { scorer, labels } = this.model();
    const x = toDense(features, "query features");
    checkCols(x, scorer.dim, "query features");
    return { classes: [...labels], logits: scoreMatrix(x, scorer, "cosine").mul(this.options.temperature) };
  }

  predict(features: FeatureInput): Int32Array {
    const { scorer, labels } = this.model();
    const x = toDense(features, "query features");
    checkCols(x, scorer.dim, "query features");
    return predictLabels(x, scorer, labels);
  }

  state(): TeenState {
    const novelClasses = this.novelClasses();
    const d = this.base.dim ?? 0;
    const novelPrototypes = new Float64Array(novelClasses.length * d);
    novelClasses.forEach((c, k) => novelPrototypes.set(this.novel.get(c)!.proto, k * d));
    return {
      kind: "teen",
      version: 1,
      options: { ...this.options, tau: Number.isFinite(this.options.tau) ? this.options.tau : "Infinity" },
      base: this.base.state(),
      novelClasses,
      novelPrototypes,
      novelSessions: novelClasses.map((c) => this.novel.get(c)!.session),
    };
  }

  static fromState(state: TeenState): TeenClassifier {
    if (state?.kind !== "teen" || state.version !== 1) {
      throw new CheckpointError(`expected a TEEN state {kind: "teen", version: 1}, got kind=${String(state?.kind)} version=${String(state?.version)}`);
    }
    const o = state.options;
    const out = new TeenClassifier({ ...o, tau: o.tau === "Infinity" ? Infinity : o.tau });
    out.base = ClassSums.fromState(state.base, "TEEN base state");
    const d = out.base.dim ?? 0;
    const { novelClasses, novelPrototypes, novelSessions } = state;
    if (!(novelPrototypes instanceof Float64Array) || novelPrototypes.length !== novelClasses.length * d || novelSessions.length !== novelClasses.length) {
      throw new CheckpointError(`TEEN state: ${novelClasses.length} novel classes do not match ${novelPrototypes?.length} prototype values (dim ${d}) / ${novelSessions?.length} sessions`);
    }
    novelClasses.forEach((c, k) => {
      if (out.base.has(c) || out.novel.has(c)) throw new CheckpointError(`TEEN state: class ${c} appears twice`);
      out.novel.set(c, { proto: novelPrototypes.slice(k * d, (k + 1) * d), session: novelSessions[k] });
    });
    out.sessionCount = novelSessions.reduce((a, b) => Math.max(a, b), 0);
    return out;
  }

  load(state: TeenState): void {
    const next = TeenClassifier.fromState(state);
    const a = this.options;
    const b = next.options;
    if (a.alpha !== b.alpha || a.tau !== b.tau || a.mode !== b.mode || a.temperature !== b.temperature) {
      throw new CheckpointError(`TEEN checkpoint options ${JSON.stringify(next.options)} differ from ${JSON.stringify(this.options)}; use TeenClassifier.fromState()`);
    }
    this.base = next.base;
    this.novel = next.novel;
    this.sessionCount = next.sessionCount;
    this.cached = null;
  }

  private prototypeData(classes: number[]): Float64Array {
    const d = this.base.dim ?? 0;
    const out = new Float64Array(classes.length * d);
    classes.forEach((c, k) => out.set(this.prototype(c), k * d));
    return out;
  }

  private model(): { scorer: LinearScorer; labels: Int32Array } {
    if (this.cached !== null) return this.cached;
    const classes = this.classes();
    if (classes.length === 0 || this.base.dim === null) throw new EmptyClassError(null, "call updateBase() with labelled base features before predicting");
    this.cached = { scorer: scorerFor(this.prototypeData(classes), classes.length, this.base.dim, "cosine"), labels: Int32Array.from(classes) };
    return this.cached;
  }
}
