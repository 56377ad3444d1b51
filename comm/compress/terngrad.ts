/**
 * TernGrad (Wen et al. 2017), without their gradient clipping (apply it upstream if wanted; per
 * layer scaling is the per-tensor wrapper): scale = max_i |x_i|, and each element becomes
 * scale * sign(x_i) * b_i with b_i ~ Bernoulli(|x_i| / scale), so E = x_i (unbiased).
 *
 * Wire: u8 format=0x22 | u32 d | f32 scale | ceil(d/4) bytes of 2-bit fields, LSB first:
 * 00 = 0, 01 = +scale, 11 = -scale (bit 0 = magnitude, bit 1 = negative; 10 never written).
 * Exactly one uniform per element, in index order, whatever the data.
 */
import type { Compressor, Uniform } from './compressor.ts';
import { checkEnd, checkHeader, dataView, Format, HEADER_BYTES, writeHeader } from './wire-format.ts';

const TERN_HEADER_BYTES = HEADER_BYTES + 4;

export class TernGrad implements Compressor {
  readonly name = 'terngrad';
  readonly dense = false;

  encode(x: Float32Array, uniform: Uniform): Uint8Array {
    const d = x.length;
    let scale = 0;
    for (let i = 0; i < d; i++) {
      const a = Math.abs(x[i]!);
      if (a > scale || a !== a) scale = a; // a NaN sticks: the decoded vector is all NaN, not hidden
    }
    const p = new Uint8Array(TERN_HEADER_BYTES + Math.ceil(d / 4));
    writeHeader(p, Format.terngrad, d);
    dataView(p).setFloat32(5, scale, true);
    const bits = new Uint32Array(x.buffer, x.byteOffset, d);
    // A zero vector has scale 0: divide by inf instead so every probability is 0 (not 0/0).
    const divisor = scale > 0 ? scale : Infinity;
    let o = TERN_HEADER_BYTES;
    for (let i = 0; i < d; i += 4) {
      const end = i + 4 < d ? i + 4 : d;
      let byte = 0;
      for (let j = i; j < end; j++) {
        // |x_j| / scale <= 1 exactly (IEEE division is monotone), so b = 1 with probability
        // |x_j| / scale. Branch-free: -floor(u - p) is 1 exactly when u < p; the sign bit of
        // the float marks negatives (only meaningful, and only set, when b = 1).
        const mag = -Math.floor(uniform() - Math.abs(x[j]!) / divisor);
        const field = mag | ((mag & (bits[j]! >>> 31)) << 1);
        byte |= field << (2 * (j - i));
      }
      p[o++] = byte;
    }
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    this.unpack(payload, out, 1, false);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    this.unpack(payload, out, scale, true);
  }

  private unpack(payload: Uint8Array, out: Float32Array, scale: number, add: boolean): void {
    const d = out.length;
    const dv = checkHeader(payload, Format.terngrad, d, this.name, TERN_HEADER_BYTES);
    checkEnd(payload, TERN_HEADER_BYTES + Math.ceil(d / 4), this.name);
    // Field -> value table (a load instead of data-dependent branches): 00 0, 01 +s, 11 -s.
    const t = fieldValue;
    t[1] = scale * dv.getFloat32(5, true);
    t[3] = -t[1]!;
    t[0] = 0 * t[1]!; // 0, or NaN when the scale is NaN/inf (a NaN gradient stays visible)
    for (let i = 0; i < d; i += 4) {
      const byte = payload[TERN_HEADER_BYTES + (i >>> 2)]!;
      // Field 10 (never written) anywhere in the byte: bit 1 set where bit 0 is clear.
      if (((byte >>> 1) & ~byte & 0x55) !== 0) throw new Error(`${this.name}: corrupt payload (field 10 near element ${i})`);
      const end = i + 4 < d ? i + 4 : d;
      if (add) for (let j = i; j < end; j++) out[j] = out[j]! + t[(byte >>> (2 * (j - i))) & 3]!;
      else for (let j = i; j < end; j++) out[j] = t[(byte >>> (2 * (j - i))) & 3]!;
    }
  }
}

/** Values of the four 2-bit fields for the payload being decoded (index 2 is never used). */
const fieldValue = new Float64Array(4);

/** Bits per element of TernGrad: 2, plus header and padding spread over d. */
export function terngradBitsPerElement(d: number): number {
  return (8 * (TERN_HEADER_BYTES + Math.ceil(d / 4))) / d;
}
