/**
 * @mnemo/experiment: experiments as a library. Config → experiment → run, with the same result as
 * `mnemo run`: the open method/plugin registry, run directories, checkpoints and resume,
 * interruption, and tracking as an observer of the run.
 */
export { Registry, RegistryError, defineMethod, definePlugin, CAPABILITY_WORDS, type Capability, type MethodDefinition, type PluginDefinition, type SectionSchema } from "./registry.js";
export { defaultRegistry } from "./default-registry.js";
export { BUILTIN_METHODS, registerBuiltinMethods, commonLearnerOptions, offerExemplars, type ExemplarConsumer, type ExemplarSource, type MethodBuild, type MethodContext, type PluginContext } from "./methods/index.js";
export { BUILTIN_PLUGINS, registerBuiltinPlugins } from "./plugins/index.js";
export {
  loadConfig,
  formatPath,
  printable,
  positiveInt,
  nonNegativeInt,
  positiveNumber,
  probability,
  folderName,
  MAX_CONFIG_BYTES,
  MAX_YAML_ALIASES,
  MAX_YAML_NESTING,
  MAX_NAME_LENGTH,
  type LoadConfigOptions,
  type LoadedConfig,
  type PathSegment,
} from "./config-loader.js";
export { keysAt } from "./config-messages.js";
export { configSchema, configJsonSchema, type ExperimentConfig, type ComponentConfig } from "./config-schema.js";
export { loadExperimentConfig, experimentConfig, type LoadOptions } from "./load.js";
export { buildExperiment, checkSizes, makeBackbone, trainingConfig, optimizerConfig, scheduleConfig, type BuildOptions, type BuiltExperiment } from "./assemble.js";
export {
  runBuiltExperiment,
  runFromConfig,
  trackerObserver,
  perTaskMetrics,
  finalMetrics,
  PER_CLASS_COUNTS_FILE,
  type RunObserver,
  type RunOptions,
  type RunOutcome,
  type RunStartEvent,
  type TaskEndEvent,
  type RunEndEvent,
  type RunFromConfigArgs,
  type RunProgress,
  type FinalMetricsEvent,
} from "./run.js";
export { syncRun, closeCrashedRuns, runArtifactFiles, type SyncRunResult } from "./lifecycle.js";
export { importComponents, importComponentsOf, resolveImport } from "./imports.js";
export { consoleReporter } from "./console-reporter.js";
export { formatTable, pct } from "./table.js";
export { summarizeSweep, formatSweepSummary, readSweepRunMetrics, type SweepRun, type SweepRunMetrics, type SweepSummary, type SweepPointSummary } from "./sweep-summary.js";
export { CHECKPOINT_DIR, configHash, loadRunCheckpoint, saveRunCheckpoint, type RunnerState, type CheckpointCost } from "./checkpointing.js";
export { installInterruptHandler, setStopCheck, type InterruptHandle } from "./interrupt.js";
export { createRunDir, resumeConfigFile, gitInfo, writeJson, writeFileAtomic, RUN_ARTIFACTS, FWT_BASELINE_FILE, type RunInfo } from "./run-dir.js";
export { MNEMO_VERSION } from "./version.js";
export {
  AdaptationInterrupted,
  ADAPTATION_CHECKPOINT_DIR,
  ADAPTATION_FILE,
  adapterConfig,
  adaptationReport,
  runAdaptationPhase,
  writeAdaptationOutputs,
  type AdaptationResult,
  type AdapterResult,
  type AdaptationPhaseArgs,
} from "./adaptation.js";
