/** `mnemo schema`: the run config as JSON Schema, with every default and description. */
import { configJsonSchema, defaultRegistry } from "@mnemo/experiment";

export async function schemaCommand(): Promise<number> {
  process.stdout.write(JSON.stringify(configJsonSchema(defaultRegistry), null, 2) + "\n");
  return 0;
}
