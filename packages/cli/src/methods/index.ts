/**
 * The method registry: each method is one file with its config schema and a builder.
 * To add a method: write methods/<name>.ts exporting `<name>Schema` and `build<Name>`, then add
 * it to `methodConfigSchema` and `buildMethod` below.
 */
import { z } from "zod";
import { buildFinetune, finetuneSchema } from "./finetune.js";
import type { MethodBuild, MethodContext } from "./types.js";

export const methodConfigSchema = z
  .discriminatedUnion("name", [finetuneSchema])
  .describe("The continual-learning method and its hyper-parameters");

export type MethodConfig = z.output<typeof methodConfigSchema>;

export function buildMethod(config: MethodConfig, context: MethodContext): MethodBuild {
  switch (config.name) {
    case "finetune":
      return buildFinetune(config, context);
  }
}

export type { MethodBuild, MethodContext } from "./types.js";
