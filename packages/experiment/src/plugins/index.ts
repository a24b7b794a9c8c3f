/**
 * The plugins Mnemo ships for the config's `plugins:` list, one file each with its schema next to
 * its builder. Register your own with `defaultRegistry.registerPlugin(definePlugin({ ... }))`.
 */
import type { PluginDefinition, Registry } from "../registry.js";
import { momentumInterpolationPlugin } from "./momentum-interpolation.js";
import { nmcPlugin } from "./nmc.js";
import { selfTrainingPlugin } from "./self-training.js";
import { soupPluginDefinition } from "./soup.js";
import { wiseFtPluginDefinition } from "./wise-ft.js";

export const BUILTIN_PLUGINS: readonly PluginDefinition[] = [
  nmcPlugin,
  momentumInterpolationPlugin,
  wiseFtPluginDefinition,
  soupPluginDefinition,
  selfTrainingPlugin,
];

export function registerBuiltinPlugins(registry: Registry): Registry {
  for (const p of BUILTIN_PLUGINS) registry.registerPlugin(p);
  return registry;
}
