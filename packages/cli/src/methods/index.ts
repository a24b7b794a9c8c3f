/**
 * The method registry: each method is one file with its config schema and a builder.
 * To add a method: write methods/<name>.ts exporting `<name>Schema` and `build<Name>`, then add
 * it to `methodConfigSchema` and `buildMethod` below.
 */
import { z } from "zod";
import { buildDerpp, derppSchema } from "./derpp.js";
import { buildEr, erSchema } from "./er.js";
import { buildFinetune, finetuneSchema } from "./finetune.js";
import { buildGdumb, gdumbSchema } from "./gdumb.js";
import { buildIcarl, icarlSchema } from "./icarl.js";
import { buildJoint, jointSchema } from "./joint.js";
import { buildPrototypes, buildTeen, prototypesSchema, teenSchema } from "./fscil.js";
import type { MethodBuild, MethodContext } from "./types.js";

export const methodConfigSchema = z
  .discriminatedUnion("name", [finetuneSchema, teenSchema, prototypesSchema, erSchema, derppSchema, icarlSchema, gdumbSchema, jointSchema])
  .describe("The continual-learning method and its hyper-parameters");

export type MethodConfig = z.output<typeof methodConfigSchema>;

export function buildMethod(config: MethodConfig, context: MethodContext): MethodBuild {
  switch (config.name) {
    case "finetune":
      return buildFinetune(config, context);
    case "teen":
      return buildTeen(config, context);
    case "prototypes":
      return buildPrototypes(config, context);
    case "er":
      return buildEr(config, context);
    case "derpp":
      return buildDerpp(config, context);
    case "icarl":
      return buildIcarl(config, context);
    case "gdumb":
      return buildGdumb(config, context);
    case "joint":
      return buildJoint(config, context);
  }
}

export type { MethodBuild, MethodContext } from "./types.js";
