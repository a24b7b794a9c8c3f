/** `mnemo schema`: the run config as JSON Schema, with every default and description. */
import { configSchema, defaultRegistry } from "@mnemo/experiment";
import { z } from "zod";

export async function schemaCommand(): Promise<number> {
  process.stdout.write(JSON.stringify(z.toJSONSchema(configSchema(defaultRegistry), { io: "input", unrepresentable: "any" }), null, 2) + "\n");
  return 0;
}
