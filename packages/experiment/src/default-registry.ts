import { registerBuiltinMethods } from "./methods/index.js";
import { registerBuiltinPlugins } from "./plugins/index.js";
import { Registry } from "./registry.js";

/** Every method and plugin Mnemo ships; a user's package registers its own into it. */
export const defaultRegistry: Registry = registerBuiltinPlugins(registerBuiltinMethods(new Registry()));
