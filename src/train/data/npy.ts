import { closeSync, fstatSync, readSync } from 'node:fs';
import { openDataFile } from '../../util/open-data-file.ts';
import { UserError } from '../../util/user-error.ts';
import { elementsFor, type NumericArray } from './numeric-array.ts';

/**
 * NumPy's .npy format (versions 1-3): the magic "\x93NUMPY", a version, the header's length, a
 * Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` and the raw
 * C-order data. The file is hostile until parsed: the header is read and checked first (length,
 * dtype, shape, and that the file holds exactly the bytes the shape says), and the data is
 * allocated only then, at most `maxBytes`.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy itself writes headers of a few hundred bytes; a larger one is not a data file. */
const MAX_HEADER_BYTES = 65536;

/** Little-endian (or byte-sized) dtypes we read, by their descr without the byte-order mark. */
const DTYPES = {
  f4: { bytes: 4, kind: 'float32' },
  f8: { bytes: 8, kind: 'float64' },
  u1: { bytes: 1, kind: 'uint8' },
  i1: { bytes: 1, kind: 'int8' },
  b1: { bytes: 1, kind: 'uint8' },
  u2: { bytes: 2, kind: 'uint16' },
  i2: { bytes: 2, kind: 'int16' },
  u4: { bytes: 4, kind: 'uint32' },
  i4: { bytes: 4, kind: 'int32' },
  i8: { bytes: 8, kind: 'int64' },
  u8: { bytes: 8, kind: 'uint64' },
} as const;

export interface NpyHeader {
  descr: string;
  shape: number[];
  /** Offset of the data in the file. */
  offset: number;
  dtype: (typeof DTYPES)[keyof typeof DTYPES];
}

/** Parse and check the header of a .npy file from its first bytes (`head` must hold the whole header). */
export function parseNpyHeader(head: Uint8Array, file: string): NpyHeader {
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b)) throw new UserError(`${file}: expected a NumPy .npy file (magic \\x93NUMPY), found other data`);
  const major = head[6]!;
  if (major < 1 || major > 3) throw new UserError(`${file}: expected .npy format version 1, 2 or 3, found ${major}`);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (head.length < 8 + lenBytes) throw new UserError(`${file}: truncated .npy header`);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (headerLen > MAX_HEADER_BYTES) throw new UserError(`${file}: expected a .npy header of at most ${MAX_HEADER_BYTES} bytes, found ${headerLen}`);
  const start = 8 + lenBytes;
  if (head.length < start + headerLen) throw new UserError(`${file}: truncated .npy header (expected ${headerLen} bytes, found ${head.length - start})`);
  const text = Buffer.from(head.subarray(start, start + headerLen)).toString('latin1');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new UserError(`${file}: expected a .npy header with descr, fortran_order and shape, found ${JSON.stringify(text.trim().slice(0, 80))}`);
  }
  if (fortran === 'True') throw new UserError(`${file}: expected C-order data (fortran_order False), found fortran_order True (save np.ascontiguousarray(a))`);
  const order = descr[0];
  const code = descr.slice(1) as keyof typeof DTYPES;
  const dtype = DTYPES[code];
  if (!dtype || (order !== '<' && order !== '|' && !(order === '>' && dtype.bytes === 1))) {
    throw new UserError(`${file}: expected a little-endian numeric dtype (<f4, <f8, |u1, |i1, <i2, <u2, <i4, <u4, <i8, <u8, |b1), found ${JSON.stringify(descr)}`);
  }
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const shape = parts.map((s) => (/^\d+L?$/.test(s) ? Number.parseInt(s, 10) : Number.NaN));
  if (shape.some((n) => !Number.isSafeInteger(n))) throw new UserError(`${file}: expected a shape of non-negative integers, found (${shapeText.trim()})`);
  return { descr, shape, offset: start + headerLen, dtype };
}

/** Read a .npy file: its shape and its values in the dtype's typed array. */
export function readNpy(file: string, maxBytes: number): { shape: number[]; data: NumericArray; descr: string } {
  const fd = openDataFile(file);
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, 12 + MAX_HEADER_BYTES));
    readSync(fd, head, 0, head.length, 0);
    const h = parseNpyHeader(head, file);
    const count = elementsFor(h.shape, h.dtype.bytes, maxBytes, file);
    const bytes = count * h.dtype.bytes;
    if (size - h.offset !== bytes) throw new UserError(`${file}: expected ${bytes} data bytes for shape (${h.shape.join(', ')}) of ${h.descr}, found ${size - h.offset}`);
    // An ArrayBuffer of its own: the typed array views are aligned whatever the header length.
    const buf = new ArrayBuffer(bytes);
    const u8 = new Uint8Array(buf);
    let done = 0;
    while (done < bytes) {
      const n = readSync(fd, u8, done, bytes - done, h.offset + done);
      if (n === 0) throw new UserError(`${file}: truncated data (expected ${bytes} bytes, found ${done})`);
      done += n;
    }
    return { shape: h.shape, data: typedView(h.dtype.kind, buf), descr: h.descr };
  } finally {
    closeSync(fd);
  }
}

function typedView(kind: (typeof DTYPES)[keyof typeof DTYPES]['kind'], buf: ArrayBuffer): NumericArray {
  switch (kind) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'uint8':
      return new Uint8Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint64':
      return new BigUint64Array(buf);
  }
}

/** A .npy file's bytes (version 1) for an array: what tests and examples write. */
export function encodeNpy(descr: '<f4' | '<f8' | '|u1' | '<i4' | '<i8', shape: number[], data: ArrayBufferView): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // numpy pads with spaces so that the data starts at a multiple of 64, ending the header with \n.
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = dict + ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
