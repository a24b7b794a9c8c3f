/**
 * What travels through the queue, and the two things a worker needs from the sweep library: a
 * runner for one trial and the sweep's store of recorded results. The queue itself knows nothing
 * about experiments; `sweep-binding.ts` plugs @mnemo/sweep in.
 */

/** The code a trial was enqueued from; a worker refuses a trial from other code. */
export interface CodeVersion {
  /** `git rev-parse HEAD`, or null outside a git checkout (then `mnemo` is compared instead). */
  commit: string | null;
  /** Uncommitted changes to tracked files (only warned about: the commit is what is compared). */
  dirty: boolean | null;
  /** Hash of the run config's JSON schema: a worker with another schema would read the config differently. */
  schema: string;
  /** The mnemo package version. */
  mnemo: string;
}

/** One BullMQ job's data: everything a worker on another machine needs to run the trial. */
export interface TrialJobData {
  format: 1;
  sweep: {
    name: string;
    /** The sweep directory (absolute) on the enqueuing machine; shared with the workers or not. */
    dir: string;
  };
  trial: {
    /** The trial's hash id (also the job id). */
    id: string;
    /** Short human-readable description (`training.lr=0.001 seed=1`). */
    label: string;
    /** What the runner needs to run the trial (JSON: the sweep library's trial). */
    spec: unknown;
  };
  code: CodeVersion;
  /** Where and under what the trial's MLflow run goes (the sweep's parent run). */
  tracking?: { uri?: string; parentRunId?: string; experimentName?: string };
  enqueuedAt: string;
  /** Host name of the enqueuing machine. */
  enqueuedBy: string;
}

/** Who runs a trial: the worker's name (`host:pid`) and host. */
export interface WorkerIdentity {
  name: string;
  host: string;
}

export interface TrialContext {
  worker: WorkerIdentity;
  /** 1 on the first try; BullMQ's attemptsStarted after a retry or a stalled pick-up. */
  attempt: number;
  log: (line: string) => void;
  /** Aborted when the worker stops (Ctrl-C, Redis lost): stop after the current step with a checkpoint. */
  signal: AbortSignal;
}

/** The result the runner returns and the store records: JSON, small (metrics, run directory). */
export type TrialResult = Record<string, unknown>;

/** Runs one trial to its end (resuming from the trial's checkpoint when its run directory has one). */
export type TrialRunner = (job: TrialJobData, ctx: TrialContext) => Promise<TrialResult>;

/** A sweep's recorded results (its manifest on disk): the source of truth, idempotent. */
export interface TrialStore {
  /** The recorded result of a trial, if any. */
  get(id: string): TrialResult | undefined;
  /** Records a trial's result; false (and nothing written) when it was recorded already. */
  record(id: string, result: TrialResult): boolean;
}

/**
 * The store of the sweep a job belongs to, where this machine can reach it (the sweep directory is
 * shared, or this is the enqueuing machine); undefined where it cannot (the result then travels
 * back as the job's return value and the enqueuer records it).
 */
export type StoreOpener = (job: TrialJobData) => TrialStore | undefined;
