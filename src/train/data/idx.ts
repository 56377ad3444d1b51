import { closeSync, fstatSync, readSync } from 'node:fs';
import { openDataFile } from '../../util/open-data-file.ts';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../../util/user-error.ts';
import { elementsFor, type NumericArray } from './numeric-array.ts';

/**
 * The IDX format of MNIST and Fashion-MNIST, plain or gzipped (recognised by its magic bytes,
 * not its name): two zero bytes, a type code, the number of dimensions, each dimension as a
 * big-endian uint32, then the values big-endian in C order. The file (and, gzipped, what it
 * inflates to) is bounded by `maxBytes` before it is read, and the header's shape must account
 * for exactly the bytes that follow.
 */

const TYPES: Record<number, { bytes: number; name: string }> = {
  0x08: { bytes: 1, name: 'unsigned byte' },
  0x09: { bytes: 1, name: 'signed byte' },
  0x0b: { bytes: 2, name: 'short' },
  0x0c: { bytes: 4, name: 'int' },
  0x0d: { bytes: 4, name: 'float' },
  0x0e: { bytes: 8, name: 'double' },
};

function readBounded(file: string, maxBytes: number): Uint8Array {
  const fd = openDataFile(file);
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new UserError(`${file}: expected at most ${maxBytes} bytes (limits.memoryFraction of this machine's memory), found ${size}`);
    const out = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Parse IDX bytes (already inflated) into its dims and values (native-endian typed array). */
export function parseIdxArray(buf: Uint8Array, file: string, maxBytes: number): { dims: number[]; data: NumericArray } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 4 || dv.getUint16(0) !== 0 || !(buf[2]! in TYPES)) {
    throw new UserError(`${file}: expected an IDX file (magic 0x0000 and a type code 0x08, 0x09, 0x0b-0x0e), found other data`);
  }
  const type = TYPES[buf[2]!]!;
  const ndim = buf[3]!;
  if (ndim < 1) throw new UserError(`${file}: expected at least one dimension in the IDX header, found 0`);
  const offset = 4 + 4 * ndim;
  if (buf.byteLength < offset) throw new UserError(`${file}: truncated IDX header (${ndim} dimensions need ${offset} bytes, found ${buf.byteLength})`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(dv.getUint32(4 + 4 * i));
  const count = elementsFor(dims, type.bytes, maxBytes, file);
  if (buf.byteLength - offset !== count * type.bytes) {
    throw new UserError(`${file}: expected ${count * type.bytes} data bytes for dims ${dims.join('x')} of ${type.name}, found ${buf.byteLength - offset}`);
  }
  const body = new DataView(buf.buffer, buf.byteOffset + offset, count * type.bytes);
  let data: NumericArray;
  switch (buf[2]) {
    case 0x08:
      data = buf.slice(offset);
      break;
    case 0x09:
      data = new Int8Array(buf.slice(offset).buffer);
      break;
    case 0x0b:
      data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = body.getInt16(2 * i);
      break;
    case 0x0c:
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = body.getInt32(4 * i);
      break;
    case 0x0d:
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = body.getFloat32(4 * i);
      break;
    default:
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = body.getFloat64(8 * i);
  }
  return { dims, data };
}

/** Read an IDX file, gzipped or not. */
export function readIdxFile(file: string, maxBytes: number): { dims: number[]; data: NumericArray } {
  let buf = readBounded(file, maxBytes);
  if (buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      // maxOutputLength: a small gzip bomb must not inflate past what we would accept raw.
      const raw = gunzipSync(buf, { maxOutputLength: Math.max(1, Math.min(maxBytes, 2 ** 31 - 1)) });
      buf = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new UserError(`${file}: inflates to more than ${maxBytes} bytes, expected at most that (limits.memoryFraction of this machine's memory)`);
      throw new UserError(`${file}: cannot read gzip data (${(e as Error).message})`);
    }
  }
  return parseIdxArray(buf, file, maxBytes);
}

/** IDX bytes (not gzipped) for unsigned-byte or float data: what tests and examples write. */
export function encodeIdx(type: 0x08 | 0x0d, dims: number[], data: Uint8Array | Float32Array): Uint8Array {
  const offset = 4 + 4 * dims.length;
  const out = new Uint8Array(offset + data.length * (type === 0x08 ? 1 : 4));
  const dv = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  for (let i = 0; i < data.length; i++) {
    if (type === 0x08) out[offset + i] = data[i]!;
    else dv.setFloat32(offset + 4 * i, data[i]!);
  }
  return out;
}
