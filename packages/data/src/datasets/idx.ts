import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DataError } from "@mnemo/core/errors";

export interface IdxArray {
  /** Dimensions from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** uint8 payload (a view into the decoded file, not a copy). */
  data: Uint8Array;
}

const UBYTE = 0x08;

/**
 * Parse an idx file (LeCun's MNIST format), gzipped or not (detected by the 1f 8b magic).
 * Only unsigned-byte payloads occur in MNIST-style data; other types are reported, not guessed.
 */
export function readIdx(file: string, expectedRank?: number): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DataError(`${file}: cannot read (${(err as Error).message})`, { file }, { cause: err });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError(`${file}: corrupt or truncated gzip data (${(err as Error).message})`, { file }, { cause: err });
    }
  }
  return parseIdx(bytes, file, expectedRank);
}

export function parseIdx(bytes: Uint8Array, file: string, expectedRank?: number): IdxArray {
  if (bytes.length < 4) {
    throw new DataError(`${file}: ${bytes.length} bytes, too short for an idx header (expected at least 4)`, {
      file,
      offset: 0,
      expectedBytes: 4,
      actualBytes: bytes.length,
    });
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(`${file}: bad idx magic at offset 0 (first two bytes must be 0); not an idx file`, { file, offset: 0 });
  }
  const type = bytes[2] as number;
  const rank = bytes[3] as number;
  if (type !== UBYTE) {
    throw new DataError(`${file}: idx data type 0x${type.toString(16)} at offset 2 is not supported (expected 0x08, unsigned byte)`, {
      file,
      offset: 2,
    });
  }
  if (expectedRank !== undefined && rank !== expectedRank) {
    throw new DataError(`${file}: idx rank ${rank} at offset 3, expected ${expectedRank} (labels are rank 1, images rank 3)`, {
      file,
      offset: 3,
    });
  }
  const header = 4 + 4 * rank;
  if (bytes.length < header) {
    throw new DataError(`${file}: header needs ${header} bytes, file has ${bytes.length}`, {
      file,
      offset: bytes.length,
      expectedBytes: header,
      actualBytes: bytes.length,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = header + dims.reduce((a, d) => a * d, 1);
  if (bytes.length !== expected) {
    throw new DataError(
      `${file}: ${bytes.length} bytes (decompressed), expected ${expected} for dims [${dims.join(", ")}]; ` +
        `${bytes.length < expected ? `truncated at offset ${bytes.length}` : `${bytes.length - expected} extra bytes after offset ${expected}`}`,
      { file, offset: Math.min(bytes.length, expected), expectedBytes: expected, actualBytes: bytes.length },
    );
  }
  return { dims, data: bytes.subarray(header) };
}
