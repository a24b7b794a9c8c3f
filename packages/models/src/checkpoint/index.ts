export { encodeState, decodeState, disposeState, type StateValue } from "./codec.js";
export {
  writeCheckpoint,
  readCheckpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type CheckpointIdentity,
  type CheckpointManifest,
  type LoadedCheckpoint,
} from "./store.js";
