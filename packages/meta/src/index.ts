export { Maml, type MamlOptions, type Batch, type EpisodeData } from "./maml.js";
