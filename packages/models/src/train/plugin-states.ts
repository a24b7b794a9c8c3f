/**
 * Plugin states in a learner's checkpoint: every learner that owns plugins saves and restores them
 * the same way, so a plugin's memory (class means, slow weights, soups) survives a resume whatever
 * learner carries it.
 */
import { CheckpointError, type Plugin } from "@mnemo/core";
import type { StateValue } from "../checkpoint/codec.js";

/** The state of each plugin that has one, keyed by plugin name. */
export async function savePluginStates(plugins: readonly Plugin[]): Promise<Record<string, StateValue>> {
  const states: Record<string, StateValue> = {};
  for (const p of plugins) if (p.state) states[p.name] = (await p.state()) as StateValue;
  return states;
}

/** Restores `savePluginStates` output; a plugin with state that the checkpoint lacks is an error. */
export async function loadPluginStates(plugins: readonly Plugin[], states: Record<string, unknown> | undefined): Promise<void> {
  for (const p of plugins) {
    const s = states?.[p.name];
    if (s === undefined && p.state) throw new CheckpointError(`the checkpoint has no state for plugin "${p.name}"`);
    if (s !== undefined) await p.loadState?.(s as Record<string, unknown>);
  }
}
