import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, peekDestination, WIRE_HEADER_BYTES } from '../comm/transport/wire-codec.ts';
import { bytesToF32 } from '../comm/collectives/chunks.ts';

describe('wire codec', () => {
  it('round-trips header fields and payloads of every small length', () => {
    for (let len = 0; len <= 64; len++) {
      const payload = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & 255);
      const msg = { from: 3, to: 4000, op: 0x80000005, step: 17, sendTime: 1.25e-3, arrival: Number.NaN, payload };
      const frame = encodeMessage(msg);
      expect(frame.byteLength).toBe(WIRE_HEADER_BYTES + len);
      expect(peekDestination(frame)).toBe(4000);
      const back = decodeMessage(frame);
      expect({ ...back, payload: Array.from(back.payload) }).toEqual({ ...msg, payload: Array.from(payload) });
    }
  });

  it('decodes from an unaligned slice into an aligned float32-viewable payload', () => {
    const f = Float32Array.from([1.5, -2, 3.25]);
    const frame = encodeMessage({ from: 0, to: 1, op: 1, step: 0, sendTime: 0, arrival: 0, payload: new Uint8Array(f.buffer) });
    const shifted = new Uint8Array(frame.byteLength + 1);
    shifted.set(frame, 1);
    const msg = decodeMessage(shifted.subarray(1));
    expect(Array.from(bytesToF32(msg.payload))).toEqual([1.5, -2, 3.25]);
  });

  it('rejects frames that are not dtemu frames', () => {
    expect(() => decodeMessage(new Uint8Array(10))).toThrow(/too short/);
    expect(() => decodeMessage(new Uint8Array(WIRE_HEADER_BYTES))).toThrow(/magic/);
  });
});

describe('op numbering', () => {
  it('gives every namespace its own block, stable across processes', async () => {
    const { namespacedOp } = await import('../comm/endpoint.ts');
    const names = ['ps', 'qsparse-async', 'gradient-coding'];
    const blocks = names.map((n) => namespacedOp(n, 1) >>> 27);
    expect(new Set(blocks).size).toBe(names.length);
    expect(namespacedOp('collective', 7)).toBe(7);
    for (const n of names) expect(namespacedOp(n, 5) - namespacedOp(n, 4)).toBe(1);
    expect(namespacedOp('ps', 3)).toBeGreaterThan(0x7fffffff); // upper half, unsigned
  });
});
