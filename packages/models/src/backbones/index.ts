/** The convolutional backbones and a name → factory registry. */
import type { Backbone } from "@mnemo/core";
import { ConfigError } from "@mnemo/core";
import { conv4, type Conv4Options } from "./conv4.js";
import { reducedResnet18, resnet20, resnet32, type CifarResNetOptions, type ReducedResNet18Options } from "./resnet.js";

export { conv4, type Conv4Options } from "./conv4.js";
export {
  resnet,
  resnet20,
  resnet32,
  reducedResnet18,
  type CifarResNetOptions,
  type ReducedResNet18Options,
  type ResNetSpec,
  type ShortcutKind,
} from "./resnet.js";

export interface BackboneOptionsByName {
  conv4: Conv4Options;
  resnet20: CifarResNetOptions;
  resnet32: CifarResNetOptions;
  "reduced-resnet18": ReducedResNet18Options;
}

export type BackboneName = keyof BackboneOptionsByName;

const registry: { [K in BackboneName]: (options: BackboneOptionsByName[K]) => Backbone } = {
  conv4,
  resnet20,
  resnet32,
  "reduced-resnet18": reducedResnet18,
};

export const BACKBONE_NAMES = Object.keys(registry) as BackboneName[];

/** Backbone by its config name; unknown names fail with the list of valid ones. */
export function createBackbone<K extends BackboneName>(name: K, options?: BackboneOptionsByName[K]): Backbone;
export function createBackbone(name: string, options?: object): Backbone;
export function createBackbone(name: string, options: object = {}): Backbone {
  const factory = (registry as Record<string, ((o: object) => Backbone) | undefined>)[name];
  if (!factory) {
    throw new ConfigError(`unknown backbone "${name}"; expected one of ${BACKBONE_NAMES.join(", ")}`, { path: "model.backbone" });
  }
  return factory(options);
}
