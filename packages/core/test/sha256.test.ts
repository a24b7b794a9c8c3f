import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Sha256 } from "../src/sha256.js";

describe("Sha256", () => {
  it("matches the FIPS 180-4 test vectors", () => {
    expect(new Sha256().update("abc").hex()).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(new Sha256().hex()).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(new Sha256().update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex()).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });

  it("equals node:crypto for any bytes, however they are split into updates", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), fc.string(), (chunks, text) => {
        const ours = new Sha256().update(text);
        const node = createHash("sha256").update(text);
        for (const c of chunks) {
          ours.update(c);
          node.update(c);
        }
        expect(ours.hex()).toBe(node.digest("hex"));
      }),
      { numRuns: 300 },
    );
  });
});
