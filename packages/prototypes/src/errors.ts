import { MnemoError } from "@mnemo/core";

/** A class label that the classifier has never seen (or that was removed). */
export class UnknownClassError extends MnemoError {
  readonly label: number;
  constructor(label: number, known: readonly number[]) {
    const list = known.length > 10 ? `${known.slice(0, 10).join(", ")}, … (${known.length} classes)` : known.join(", ");
    super(
      "UNKNOWN_CLASS",
      `class ${label} is unknown; known classes: [${list}]. Call update() with samples of class ${label} first.`,
    );
    this.label = label;
  }
}

/** A class (or a whole classifier) without any samples, so it has no mean. */
export class EmptyClassError extends MnemoError {
  readonly label: number | null;
  constructor(label: number | null, hint: string) {
    super("EMPTY_CLASS", label === null ? `the classifier has no classes yet: ${hint}` : `class ${label} has no samples: ${hint}`);
    this.label = label;
  }
}
