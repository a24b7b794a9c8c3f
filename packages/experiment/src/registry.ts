/**
 * The open registry of methods (`method:`) and plugins (`plugins:`): each entry is a name, a zod
 * schema for its config section (kept next to its builder) and a builder. The run config schema is
 * assembled from whatever is registered, so a user's own package can add a method or a plugin
 * without editing Mnemo:
 *
 *   import { defaultRegistry, defineMethod } from "@mnemo/experiment";
 *   defaultRegistry.registerMethod(defineMethod({ name: "my-method", schema, build }));
 */
import type { ConfigError, Plugin, TaskStream } from "@mnemo/core";
import { MnemoError } from "@mnemo/core";
import type { ExperimentConfig } from "./config-schema.js";
import { z } from "zod";
import type { MethodBuild, MethodContext, PluginContext } from "./methods/types.js";

/**
 * What a component changes at evaluation time. Two components that provide the same capability
 * cannot be combined (which of two score replacements would win?): that is a config error.
 */
export type Capability = "scores" | "eval-params";

export const CAPABILITY_WORDS: Record<Capability, string> = {
  scores: "replace the class scores",
  "eval-params": "swap the evaluated weights",
};

/** A config section schema: a strict object whose `name` is the registered name. */
export type SectionSchema = z.ZodObject<{ name: z.ZodLiteral<string> } & z.ZodRawShape>;

export interface MethodDefinition<S extends SectionSchema = SectionSchema> {
  readonly name: string;
  readonly description: string;
  readonly schema: S;
  /** Gradient methods whose learner takes plugins from `plugins:` (default false). */
  readonly acceptsPlugins?: boolean;
  /** Capabilities the configured method itself uses (e.g. iCaRL's NMC classifier replaces scores). */
  provides?(config: z.output<S>): readonly Capability[];
  build(config: z.output<S>, context: MethodContext): MethodBuild | Promise<MethodBuild>;
}

export interface PluginDefinition<S extends SectionSchema = SectionSchema, P extends Plugin = Plugin> {
  readonly name: string;
  readonly description: string;
  readonly schema: S;
  readonly provides?: readonly Capability[];
  /**
   * Whether the configured plugin chooses on the stream's validation split (WiSE-FT's α, a greedy
   * soup): then a config without `stream.validation` is an error before anything is trained.
   */
  needsValidation?(config: z.output<S>): boolean;
  /**
   * What the plugin needs from the rest of the run config (a stream key, a method with a buffer),
   * checked before any data is loaded. Throw `at(path, problem)`; `self` is this section's path
   * (`plugins.1`), for naming both keys of a composition error.
   */
  check?(config: z.output<S>, run: ExperimentConfig, at: (path: string, problem: string) => ConfigError, self: string): void;
  build(config: z.output<S>, context: PluginContext): P | Promise<P>;
  /**
   * Numbers the plugin decided at a task end (e.g. WiSE-FT's α), after that task's evaluation: they
   * are printed, logged to the tracker at step = task index and stored in metrics.json `perStep`.
   * This is evaluation code: `evaluation.stream` is the real stream (a semi-supervised stream's
   * hidden labels can be read from it), never handed to the plugin itself.
   */
  taskMetrics?(plugin: P, taskIndex: number, evaluation: { stream: TaskStream }): Record<string, number>;
}

/** Identity helpers that let TypeScript infer a definition's config type from its schema. */
export function defineMethod<S extends SectionSchema>(definition: MethodDefinition<S>): MethodDefinition<S> {
  return definition;
}
export function definePlugin<S extends SectionSchema, P extends Plugin = Plugin>(definition: PluginDefinition<S, P>): PluginDefinition<S, P> {
  return definition;
}

export class RegistryError extends MnemoError {
  constructor(message: string) {
    super("REGISTRY", message);
    this.name = "RegistryError";
  }
}

const NAME = /^[a-z][a-z0-9_-]*$/;

export class Registry {
  private readonly methodDefs = new Map<string, MethodDefinition>();
  private readonly pluginDefs = new Map<string, PluginDefinition>();

  registerMethod<S extends SectionSchema>(definition: MethodDefinition<S>): this {
    this.check(definition.name, this.methodDefs, "method");
    // Stored type-erased: the builder is only ever called with a value its own schema parsed.
    this.methodDefs.set(definition.name, definition as unknown as MethodDefinition);
    return this;
  }

  registerPlugin<S extends SectionSchema, P extends Plugin>(definition: PluginDefinition<S, P>): this {
    this.check(definition.name, this.pluginDefs, "plugin");
    this.pluginDefs.set(definition.name, definition as unknown as PluginDefinition);
    return this;
  }

  method(name: string): MethodDefinition | undefined {
    return this.methodDefs.get(name);
  }

  plugin(name: string): PluginDefinition | undefined {
    return this.pluginDefs.get(name);
  }

  methods(): MethodDefinition[] {
    return [...this.methodDefs.values()];
  }

  plugins(): PluginDefinition[] {
    return [...this.pluginDefs.values()];
  }

  /** A registry with the same entries, to add to without changing this one (tests, sandboxes). */
  clone(): Registry {
    const r = new Registry();
    for (const m of this.methodDefs.values()) r.registerMethod(m);
    for (const p of this.pluginDefs.values()) r.registerPlugin(p);
    return r;
  }

  private check(name: string, map: Map<string, unknown>, kind: string): void {
    if (!NAME.test(name)) throw new RegistryError(`${kind} name "${name}" must be lower-case letters, digits, "-" or "_", starting with a letter`);
    if (map.has(name)) throw new RegistryError(`a ${kind} named "${name}" is already registered; choose another name (or register into a clone() of the registry)`);
  }
}
