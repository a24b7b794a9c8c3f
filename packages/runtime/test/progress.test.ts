import { describe, expect, it } from "vitest";
import { ProgressBar, formatSeconds } from "../src/progress.js";

function sink(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe("ProgressBar", () => {
  it("shows resumed work as done but leaves it out of the rate", async () => {
    const { stream, lines } = sink();
    const bar = new ProgressBar({ label: "task 3/10", total: 1000, unit: "img", stream, intervalMs: 0 });
    bar.skip(900);
    await new Promise((r) => setTimeout(r, 50));
    bar.tick(10);
    // 10 images in ≥ 50 ms: at most 200 img/s, whatever was skipped.
    expect(bar.rate()).toBeGreaterThan(0);
    expect(bar.rate()).toBeLessThanOrEqual(200);
    expect(lines.at(-1)).toMatch(/^task 3\/10 91% 910\/1000 \d+ img\/s eta /);
  });

  it("draws nothing and throws nothing where there is no stderr (a browser page), and still counts", () => {
    const real = globalThis.process;
    let bar: ProgressBar;
    // What a page has: no `process` at all (restored at once: vitest itself needs it).
    (globalThis as { process?: unknown }).process = undefined;
    try {
      bar = new ProgressBar({ label: "task 0", total: 10, intervalMs: 0 });
      bar.tick(10, "loss 0.1");
      bar.finish();
    } finally {
      globalThis.process = real;
    }
    expect(bar.rate()).toBeGreaterThan(0);
  });

  it("formats durations for the ETA", () => {
    expect(formatSeconds(42)).toBe("42s");
    expect(formatSeconds(125)).toBe("2m05s");
    expect(formatSeconds(7260)).toBe("2h01m");
    expect(formatSeconds(Infinity)).toBe("?");
  });
});
