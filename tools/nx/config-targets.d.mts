export declare function leadingComment(text: string): string;
export declare function targetFor(configFile: string, text: string): { command: string; options: { cwd: string }; cache: boolean; metadata: { description: string } };
export declare const createNodesV2: readonly [string, (files: readonly string[], options: unknown, context: { workspaceRoot: string }) => unknown[]];
