/** Prototype heads as learner plugins (the config's `plugins:` entry `nmc`). */
export { nmcHead, NMC_PRESET_NAMES, type ExemplarSource, type NmcHeadOptions, type NmcHeadPlugin, type NmcPresetName } from "./nmc-head.js";
