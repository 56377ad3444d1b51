// A compressor plugin: uniform int8 quantisation with one fp32 scale per vector,
//   payload = f32 scale | d x i8,   x_i ≈ scale * q_i / levels,   q_i = round(levels * x_i / scale)
// where scale = max |x_i|. Deterministic (no randomness), 8 bits per element plus 32.
// dtemu counts its bits from the bytes encode returns, like a built-in's.
import { defineCompressor } from 'dtemu';

export default defineCompressor<{ levels: number }>({
  name: 'int8',
  options: {
    levels: { type: 'integer', minimum: 1, maximum: 127, default: 127, description: 'Quantisation levels on each side of zero.' },
  },
  create: ({ levels }) => ({
    name: `int8(${levels})`,
    dense: false,
    encode(x) {
      let scale = 0;
      for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(x[i]!));
      const out = new Uint8Array(4 + x.length);
      new DataView(out.buffer).setFloat32(0, scale, true);
      const q = new Int8Array(out.buffer, 4);
      if (scale > 0) for (let i = 0; i < x.length; i++) q[i] = Math.round((levels * x[i]!) / scale);
      return out;
    },
    decode(payload, out) {
      out.fill(0);
      this.decodeAdd(payload, out, 1);
    },
    decodeAdd(payload, out, s) {
      if (payload.byteLength !== 4 + out.length) throw new Error(`int8: payload of ${payload.byteLength} bytes for ${out.length} values`);
      const bytes = payload.slice(); // transport buffers need not be aligned
      const scale = new DataView(bytes.buffer).getFloat32(0, true);
      const q = new Int8Array(bytes.buffer, 4);
      const f = (s * scale) / levels;
      for (let i = 0; i < out.length; i++) out[i] = out[i]! + f * q[i]!;
    },
  }),
});
