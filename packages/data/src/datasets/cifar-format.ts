import { DataError } from "@mnemo/core/errors";

/** Record layout of the CIFAR binary releases. */
export interface CifarVariant {
  /** Label bytes before the pixels: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, then fine). */
  labelBytes: 1 | 2;
  numClasses: number;
  numCoarse?: number;
}

export const CIFAR10_VARIANT: CifarVariant = { labelBytes: 1, numClasses: 10 };
export const CIFAR100_VARIANT: CifarVariant = { labelBytes: 2, numClasses: 100, numCoarse: 20 };

export const CIFAR_PIXELS = 32 * 32 * 3;
const PLANE = 32 * 32;

export function recordSize(variant: CifarVariant): number {
  return variant.labelBytes + CIFAR_PIXELS;
}

export interface CifarArrays {
  /** NHWC uint8. */
  images: Uint8Array;
  /** CIFAR-10 label or CIFAR-100 fine label. */
  labels: Int32Array;
  /** CIFAR-100 coarse label (absent for CIFAR-10). */
  coarse?: Int32Array;
  count: number;
}

/**
 * Incremental CIFAR record decoder: bytes arrive in arbitrary chunks (file stream or tar entry),
 * every complete record is converted from planar RGB to NHWC straight into the preallocated
 * output, so the file is never held twice. Several files (CIFAR-10's five batches) can be fed
 * one after another with `beginFile`.
 */
export class CifarRecordParser {
  readonly out: CifarArrays;
  private readonly rec: number;
  private readonly pending: Uint8Array;
  private pendingLen = 0;
  private written = 0;
  private file = "";
  private fileOffset = 0;
  private fileBytes = 0;
  private recordsInFile = 0;
  private readonly fineToCoarse: Int16Array;

  constructor(
    private readonly variant: CifarVariant,
    totalRecords: number,
  ) {
    this.rec = recordSize(variant);
    this.pending = new Uint8Array(this.rec);
    this.out = {
      images: new Uint8Array(totalRecords * CIFAR_PIXELS),
      labels: new Int32Array(totalRecords),
      coarse: variant.labelBytes === 2 ? new Int32Array(totalRecords) : undefined,
      count: totalRecords,
    };
    this.fineToCoarse = new Int16Array(variant.numClasses).fill(-1);
  }

  /** Start a new file of `bytes` bytes; checks it holds whole records. */
  beginFile(file: string, bytes: number): void {
    if (this.pendingLen !== 0) throw new Error("CifarRecordParser: beginFile before the previous file ended");
    if (bytes % this.rec !== 0) {
      const whole = Math.floor(bytes / this.rec);
      throw new DataError(
        `${file}: size ${bytes} bytes is not a multiple of the ${this.rec}-byte CIFAR record ` +
          `(truncated or not a CIFAR${this.variant.labelBytes === 2 ? "-100" : "-10"} binary file); ` +
          `the last complete record ends at offset ${whole * this.rec}, expected ${(whole + 1) * this.rec} bytes`,
        { file, offset: whole * this.rec, expectedBytes: (whole + 1) * this.rec, actualBytes: bytes },
      );
    }
    this.file = file;
    this.fileOffset = 0;
    this.recordsInFile = 0;
    this.fileBytes = bytes;
  }

  push(input: Uint8Array): void {
    // Node Buffers are a Uint8Array subclass; indexing them from the hot loop below makes the
    // element access polymorphic and several times slower, so always work on a plain view.
    const chunk = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    let pos = 0;
    if (this.fileOffset + chunk.length > this.fileBytes) {
      throw new DataError(`${this.file}: more data than the announced ${this.fileBytes} bytes`, {
        file: this.file,
        offset: this.fileBytes,
        expectedBytes: this.fileBytes,
      });
    }
    this.fileOffset += chunk.length;
    if (this.pendingLen > 0) {
      const take = Math.min(this.rec - this.pendingLen, chunk.length);
      this.pending.set(chunk.subarray(0, take), this.pendingLen);
      this.pendingLen += take;
      pos = take;
      if (this.pendingLen < this.rec) return;
      this.decode(this.pending, 0);
      this.pendingLen = 0;
    }
    while (pos + this.rec <= chunk.length) {
      this.decode(chunk, pos);
      pos += this.rec;
    }
    if (pos < chunk.length) {
      this.pending.set(chunk.subarray(pos), 0);
      this.pendingLen = chunk.length - pos;
    }
  }

  /** Call after the last chunk of the current file. */
  endFile(): void {
    if (this.fileOffset !== this.fileBytes || this.pendingLen !== 0) {
      throw new DataError(
        `${this.file}: ended at offset ${this.fileOffset}, expected ${this.fileBytes} bytes (truncated file)`,
        { file: this.file, offset: this.fileOffset, expectedBytes: this.fileBytes, actualBytes: this.fileOffset },
      );
    }
  }

  /** The decoded arrays; throws if fewer records arrived than announced. */
  finish(): CifarArrays {
    if (this.written !== this.out.count) {
      throw new DataError(`${this.file}: decoded ${this.written} records, expected ${this.out.count}`, {
        file: this.file,
        offset: this.written * this.rec,
        expectedBytes: this.out.count * this.rec,
      });
    }
    return this.out;
  }

  private decode(src: Uint8Array, at: number): void {
    const i = this.written;
    const recordOffset = this.recordsInFile * this.rec;
    let fine: number;
    if (this.variant.labelBytes === 2) {
      const coarse = src[at] as number;
      fine = src[at + 1] as number;
      this.checkLabel(fine, this.variant.numClasses, "fine label", recordOffset + 1);
      this.checkLabel(coarse, this.variant.numCoarse ?? 0, "coarse label", recordOffset);
      const known = this.fineToCoarse[fine] as number;
      if (known === -1) this.fineToCoarse[fine] = coarse;
      else if (known !== coarse) {
        throw new DataError(
          `${this.file}: record at offset ${recordOffset} has fine label ${fine} with coarse label ${coarse}, ` +
            `but earlier records pair fine label ${fine} with coarse label ${known} (mislabelled or not a CIFAR-100 file)`,
          { file: this.file, offset: recordOffset, expectedBytes: this.fileBytes },
        );
      }
      (this.out.coarse as Int32Array)[i] = coarse;
    } else {
      fine = src[at] as number;
      this.checkLabel(fine, this.variant.numClasses, "label", recordOffset);
    }
    this.out.labels[i] = fine;
    const px = at + this.variant.labelBytes;
    const images = this.out.images;
    let o = i * CIFAR_PIXELS;
    for (let p = 0; p < PLANE; p++) {
      images[o] = src[px + p] as number;
      images[o + 1] = src[px + PLANE + p] as number;
      images[o + 2] = src[px + 2 * PLANE + p] as number;
      o += 3;
    }
    this.written++;
    this.recordsInFile++;
  }

  private checkLabel(value: number, limit: number, what: string, offset: number): void {
    if (value >= limit) {
      throw new DataError(
        `${this.file}: ${what} ${value} at offset ${offset} is outside 0..${limit - 1} (mislabelled or wrong CIFAR variant); ` +
          `expected ${this.fileBytes} bytes of ${this.rec}-byte records`,
        { file: this.file, offset, expectedBytes: this.fileBytes },
      );
    }
  }
}
