/**
 * Per-tensor compression: a model's flat gradient is the concatenation of its tensors, and
 * compressors with a global statistic (top-k's threshold, QSGD's norm, TernGrad's max, sign's
 * scale) behave differently when applied tensor by tensor (as TernGrad's and most papers'
 * layer-wise variants do). The wrapper applies one inner compressor per segment and concatenates
 * their payloads, so the whole vector still travels as one message.
 *
 * Wire: u8 format=0x40 | u32 d | u32 n | n x u32 inner payload length | the n inner payloads.
 * The segment boundaries are not sent: both sides build the wrapper from the same model layout,
 * and each inner payload carries its own length d_i, which the decoder checks.
 */
import type { Compressor, Uniform } from './compressor.ts';
import { checkEnd, checkHeader, dataView, Format, HEADER_BYTES, writeHeader } from './wire-format.ts';

/** A contiguous range of the flat vector: elements offset .. offset + size - 1. */
export interface Segment {
  offset: number;
  size: number;
}

/** Builds the inner compressor of segment i (called once per segment, at construction). */
export type CompressorFactory = (segment: Segment, index: number) => Compressor;

/** Throw unless the segments tile [0, total) in order; returns total. */
export function checkSegments(segments: readonly Segment[], who = 'perTensor'): number {
  let next = 0;
  segments.forEach((s, i) => {
    if (!s || !Number.isInteger(s.offset) || !Number.isInteger(s.size) || s.size < 0) {
      throw new Error(`${who}: segment ${i} must have integer offset and size >= 0, got ${JSON.stringify(s)}`);
    }
    if (s.offset !== next) throw new Error(`${who}: segment ${i} starts at ${s.offset}, expected ${next} (segments must tile the vector in order)`);
    next += s.size;
  });
  return next;
}

export class PerTensor implements Compressor {
  readonly name: string;
  readonly dense: boolean;
  /** Length of the vectors this wrapper handles: the sum of the segment sizes. */
  readonly length: number;
  readonly inner: readonly Compressor[];
  private readonly segments: readonly Segment[];
  private readonly parts: Uint8Array[];

  constructor(segments: readonly Segment[], factory: CompressorFactory) {
    this.length = checkSegments(segments);
    this.segments = segments.map((s) => ({ offset: s.offset, size: s.size }));
    this.inner = this.segments.map((s, i) => factory(s, i));
    this.parts = this.inner.map(() => new Uint8Array(0));
    // Dense only if every part is: a ring may then reduce the concatenation elementwise.
    this.dense = this.inner.every((c) => c.dense);
    const names = [...new Set(this.inner.map((c) => c.name))];
    this.name = `perTensor(${names.join(',')})`;
  }

  encode(x: Float32Array, uniform: Uniform): Uint8Array {
    if (x.length !== this.length) throw new Error(`${this.name}: vector of ${x.length} elements, segments cover ${this.length}`);
    const n = this.segments.length;
    let total = HEADER_BYTES + 4 + 4 * n;
    for (let i = 0; i < n; i++) {
      const s = this.segments[i]!;
      const part = this.inner[i]!.encode(x.subarray(s.offset, s.offset + s.size), uniform);
      this.parts[i] = part;
      total += part.byteLength;
    }
    const p = new Uint8Array(total);
    const dv = dataView(p);
    writeHeader(p, Format.perTensor, x.length);
    dv.setUint32(HEADER_BYTES, n, true);
    let o = HEADER_BYTES + 4 + 4 * n;
    for (let i = 0; i < n; i++) {
      const part = this.parts[i]!;
      dv.setUint32(HEADER_BYTES + 4 + 4 * i, part.byteLength, true);
      p.set(part, o);
      o += part.byteLength;
      this.parts[i] = EMPTY; // do not keep the step's payloads alive
    }
    return p;
  }

  decode(payload: Uint8Array, out: Float32Array): void {
    this.each(payload, out, (c, part, o) => c.decode(part, o));
  }

  decodeAdd(payload: Uint8Array, out: Float32Array, scale: number): void {
    this.each(payload, out, (c, part, o) => c.decodeAdd(part, o, scale));
  }

  private each(payload: Uint8Array, out: Float32Array, f: (c: Compressor, part: Uint8Array, out: Float32Array) => void): void {
    const dv = checkHeader(payload, Format.perTensor, out.length, this.name, HEADER_BYTES + 4);
    if (out.length !== this.length) throw new Error(`${this.name}: output of ${out.length} elements, segments cover ${this.length}`);
    const n = this.segments.length;
    if (dv.getUint32(HEADER_BYTES, true) !== n) throw new Error(`${this.name}: payload has ${dv.getUint32(HEADER_BYTES, true)} segments, expected ${n}`);
    let o = HEADER_BYTES + 4 + 4 * n;
    if (o > payload.byteLength) throw new Error(`${this.name}: corrupt payload (truncated segment table)`);
    for (let i = 0; i < n; i++) {
      const len = dv.getUint32(HEADER_BYTES + 4 + 4 * i, true);
      if (o + len > payload.byteLength) throw new Error(`${this.name}: corrupt payload (segment ${i} overruns)`);
      const s = this.segments[i]!;
      f(this.inner[i]!, payload.subarray(o, o + len), out.subarray(s.offset, s.offset + s.size));
      o += len;
    }
    checkEnd(payload, o, this.name);
  }
}

const EMPTY = new Uint8Array(0);

/** Bytes the wrapper adds around its n inner payloads. */
export function perTensorOverheadBytes(n: number): number {
  return HEADER_BYTES + 4 + 4 * n;
}
