/** `mnemo schema`: the run config as JSON Schema, with every default and description. */
import { z } from "zod";
import { experimentConfigSchema } from "../config-schema.js";

export async function schemaCommand(): Promise<number> {
  process.stdout.write(JSON.stringify(z.toJSONSchema(experimentConfigSchema, { io: "input", unrepresentable: "any" }), null, 2) + "\n");
  return 0;
}
