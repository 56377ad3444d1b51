import type { Message } from '../message.ts';

/**
 * Binary framing of a Message for byte transports (ws). Header: 36 bytes, little endian.
 *   0 u8 magic 0xD7 | 1 u8 version | 2 u16 reserved | 4 u32 from | 8 u32 to | 12 u32 op
 *  16 u32 step | 20 f64 sendTime | 28 f64 arrival | 36.. payload
 * Only payload bytes are counted as communication; the header is transport overhead.
 */
export const WIRE_HEADER_BYTES = 36;
const MAGIC = 0xd7;
const VERSION = 1;

export function encodeMessage(msg: Message): Uint8Array {
  const out = new Uint8Array(WIRE_HEADER_BYTES + msg.payload.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, MAGIC);
  dv.setUint8(1, VERSION);
  dv.setUint16(2, 0, true);
  dv.setUint32(4, msg.from, true);
  dv.setUint32(8, msg.to, true);
  dv.setUint32(12, msg.op, true);
  dv.setUint32(16, msg.step, true);
  dv.setFloat64(20, msg.sendTime, true);
  dv.setFloat64(28, msg.arrival, true);
  out.set(msg.payload, WIRE_HEADER_BYTES);
  return out;
}

/** Peek at the destination without decoding the rest (the hub forwards frames untouched). */
export function peekDestination(frame: Uint8Array): number {
  if (frame.byteLength < WIRE_HEADER_BYTES || frame[0] !== MAGIC) throw new Error('not a dtemu frame');
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(8, true);
}

/**
 * Decode a frame. The payload is copied into a fresh, 8-byte aligned buffer: ws hands out
 * unaligned slices, and Float32Array views need 4-byte alignment.
 */
export function decodeMessage(frame: Uint8Array): Message {
  if (frame.byteLength < WIRE_HEADER_BYTES) throw new Error(`frame too short (${frame.byteLength} bytes)`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (dv.getUint8(0) !== MAGIC) throw new Error('bad frame magic');
  if (dv.getUint8(1) !== VERSION) throw new Error(`unsupported frame version ${dv.getUint8(1)}`);
  const payload = new Uint8Array(frame.byteLength - WIRE_HEADER_BYTES);
  payload.set(frame.subarray(WIRE_HEADER_BYTES));
  return {
    from: dv.getUint32(4, true),
    to: dv.getUint32(8, true),
    op: dv.getUint32(12, true),
    step: dv.getUint32(16, true),
    sendTime: dv.getFloat64(20, true),
    arrival: dv.getFloat64(28, true),
    payload,
  };
}
