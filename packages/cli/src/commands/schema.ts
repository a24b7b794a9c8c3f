/** `mnemo schema`: the run config as JSON Schema, with every default and description. */
import { configJsonSchema, defaultRegistry } from "@mnemo/experiment";
import { formatHelp, parseArgs } from "../args.js";
import { schemaSpec } from "../specs.js";

export async function schemaCommand(argv: string[] = []): Promise<number> {
  if (parseArgs(schemaSpec, argv).help) {
    process.stdout.write(formatHelp(schemaSpec));
    return 0;
  }
  process.stdout.write(JSON.stringify(configJsonSchema(defaultRegistry), null, 2) + "\n");
  return 0;
}
