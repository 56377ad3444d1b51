/**
 * The identity "compressor": plain float32 on the wire (spec kind 'none'), the baseline every
 * compressor is compared with. Payload: u8 format=0x01 | u32 d | d x f32.
 */
import type { Compressor, Uniform } from './compressor.ts';
import { checkEnd, checkHeader, dataView, Format, HEADER_BYTES, readF32s, writeF32s, writeHeader } from './wire-format.ts';

export class Identity implements Compressor {
  readonly name = 'none';
  readonly dense = true;

  encode(x: Float32Array, _uniform?: Uniform): Uint8Array {
    const p = new Uint8Array(HEADER_BYTES + 4 * x.length);
    writeF32s(x, x.length, p, writeHeader(p, Format.identity, x.length));
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    checkHeader(payload, Format.identity, out.length, this.name);
    checkEnd(payload, HEADER_BYTES + 4 * out.length, this.name);
    readF32s(payload, HEADER_BYTES, out.length, out);
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    checkHeader(payload, Format.identity, out.length, this.name);
    checkEnd(payload, HEADER_BYTES + 4 * out.length, this.name);
    const dv = dataView(payload);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + scale * dv.getFloat32(HEADER_BYTES + 4 * i, true);
  }
}

/** Bits per element of the identity payload: 32 plus the header spread over d. */
export function identityBitsPerElement(d: number): number {
  return 32 + (8 * HEADER_BYTES) / d;
}
