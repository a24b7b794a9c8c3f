/**
 * The methods Mnemo ships, one file each with its config schema next to its builder. To add one
 * from your own package, register it instead of editing this list:
 * `defaultRegistry.registerMethod(defineMethod({ name, description, schema, build }))`.
 */
import type { MethodDefinition, Registry } from "../registry.js";
import { anilMethod } from "./anil.js";
import { derppMethod } from "./derpp.js";
import { erMethod } from "./er.js";
import { finetuneMethod } from "./finetune.js";
import { fomamlMethod } from "./fomaml.js";
import { prototypesMethod, teenMethod } from "./fscil.js";
import { gdumbMethod } from "./gdumb.js";
import { icarlMethod } from "./icarl.js";
import { jointMethod } from "./joint.js";
import { mamlMethod } from "./maml.js";
import { mamlconMethod } from "./mamlcon.js";
import { omlMethod } from "./oml.js";
import { simplecilMethod } from "./simplecil.js";

export const BUILTIN_METHODS: readonly MethodDefinition[] = [finetuneMethod, teenMethod, prototypesMethod, erMethod, derppMethod, icarlMethod, gdumbMethod, jointMethod, simplecilMethod, mamlMethod, fomamlMethod, anilMethod, mamlconMethod, omlMethod];

export function registerBuiltinMethods(registry: Registry): Registry {
  for (const m of BUILTIN_METHODS) registry.registerMethod(m);
  return registry;
}

export { commonLearnerOptions, offerExemplars, type ExemplarConsumer, type ExemplarSource, type MethodBuild, type MethodContext, type PluginContext } from "./types.js";
