/**
 * 16-bit float casts: fp16 (IEEE binary16) and bf16, both rounding to nearest even (half.ts).
 * Payload: u8 format (0x02 fp16 / 0x03 bf16) | u32 d | d x u16.
 *
 * They are `dense`: the payload size depends only on d, and decode is elementwise, so a ring
 * all-reduce may decode, add and re-encode chunks.
 */
import type { Compressor, Uniform } from './compressor.ts';
import { bf16ToF32Table, f16ToF32Table, writeHalfs } from './half.ts';
import { checkEnd, checkHeader, dataView, Format, HEADER_BYTES, writeHeader } from './wire-format.ts';

class Cast16 implements Compressor {
  readonly dense = true;
  private readonly format: typeof Format.fp16 | typeof Format.bf16;

  constructor(readonly name: 'fp16' | 'bf16') {
    this.format = name === 'bf16' ? Format.bf16 : Format.fp16;
  }

  private table(): Float32Array {
    return this.name === 'bf16' ? bf16ToF32Table() : f16ToF32Table();
  }

  encode(x: Float32Array, _uniform?: Uniform): Uint8Array {
    const p = new Uint8Array(HEADER_BYTES + 2 * x.length);
    writeHalfs(x, x.length, p, writeHeader(p, this.format, x.length), this.name === 'bf16');
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    const dv = this.check(payload, out);
    const t = this.table();
    for (let i = 0; i < out.length; i++) out[i] = t[dv.getUint16(HEADER_BYTES + 2 * i, true)]!;
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    const dv = this.check(payload, out);
    const t = this.table();
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + scale * t[dv.getUint16(HEADER_BYTES + 2 * i, true)]!;
  }

  private check(payload: Uint8Array, out: Float32Array): DataView {
    checkHeader(payload, this.format, out.length, this.name);
    checkEnd(payload, HEADER_BYTES + 2 * out.length, this.name);
    return dataView(payload);
  }
}

/** IEEE half precision, round to nearest even, subnormals, inf and NaN preserved. */
export class Fp16Cast extends Cast16 {
  constructor() {
    super('fp16');
  }
}

/** bfloat16: the upper 16 bits of the float32, rounded to nearest even. */
export class Bf16Cast extends Cast16 {
  constructor() {
    super('bf16');
  }
}

/** Bits per element of an fp16 or bf16 payload. */
export function cast16BitsPerElement(d: number): number {
  return 16 + (8 * HEADER_BYTES) / d;
}
