import { fileURLToPath } from "node:url";

/** A module to start in a child process (`fork(file, [], { execArgv })`). */
export interface ChildEntry {
  file: string;
  execArgv: string[];
}

/**
 * The sibling module `name` of `moduleUrl`, ready to fork: built JavaScript runs as it is (an
 * installed package has no TypeScript loader), while a module running from the TypeScript sources
 * (the repository's tests and dev loop) starts its child on the sources too, through tsx and the
 * `@mnemo/source` export condition, so parent and child never mix a build with newer sources.
 */
export function childEntry(moduleUrl: string, name: string): ChildEntry {
  if (moduleUrl.endsWith(".ts")) {
    return { file: fileURLToPath(new URL(`./${name}.ts`, moduleUrl)), execArgv: ["--conditions=@mnemo/source", "--import", "tsx"] };
  }
  return { file: fileURLToPath(new URL(`./${name}.js`, moduleUrl)), execArgv: [] };
}
