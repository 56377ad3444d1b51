import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../../util/user-error.ts';
import type { Dataset } from './dataset.ts';

const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
};
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * Where the system's data sets live: Debian's /usr/share/datasets, or $DTEMU_SYSTEM_DATA (another
 * distribution's location; an empty directory makes a machine look like one without the package).
 */
export function systemFashionMnistDir(): string {
  const root = process.env['DTEMU_SYSTEM_DATA'];
  return root ? join(root, 'fashion-mnist') : DEBIAN_FASHION_MNIST_DIR;
}

/** Directories searched, in order: $DTEMU_DATA(/fashion-mnist), ./data(/fashion-mnist), the system's. */
export function fashionMnistCandidates(): string[] {
  const dirs: string[] = [];
  const env = process.env['DTEMU_DATA'];
  if (env) dirs.push(join(env, 'fashion-mnist'), env);
  dirs.push(resolve('data', 'fashion-mnist'), resolve('data'));
  dirs.push(systemFashionMnistDir());
  return dirs;
}

export function findFashionMnist(): string | null {
  for (const d of fashionMnistCandidates()) {
    if (Object.values(FILES).every((f) => existsSync(join(d, f)))) return d;
  }
  return null;
}

/** Parse an IDX file (big-endian header: magic, dims) into its dims and byte payload. */
export function parseIdx(buf: Uint8Array, file: string): { dims: number[]; data: Uint8Array } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 4 || dv.getUint16(0) !== 0 || dv.getUint8(2) !== 0x08) {
    throw new UserError(`${file}: not an unsigned-byte IDX file (bad magic number)`);
  }
  const ndim = dv.getUint8(3);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(dv.getUint32(4 + 4 * i));
  const offset = 4 + 4 * ndim;
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.byteLength - offset !== count) {
    throw new UserError(`${file}: expected ${count} data bytes for dims ${dims.join('x')}, found ${buf.byteLength - offset}`);
  }
  return { dims, data: buf.subarray(offset) };
}

function readIdx(dir: string, name: string): { dims: number[]; data: Uint8Array } {
  const file = join(dir, name);
  let raw: Buffer;
  try {
    raw = gunzipSync(readFileSync(file));
  } catch (e) {
    throw new UserError(`${file}: cannot read gzip data (${(e as Error).message})`);
  }
  return parseIdx(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), file);
}

export function loadFashionMnist(): Dataset {
  const dir = findFashionMnist();
  if (!dir) {
    throw new UserError(
      `data.dataset: Fashion-MNIST not found in ${fashionMnistCandidates().join(', ')}; run 'dtemu data fetch' (or apt-get install dataset-fashion-mnist)`,
    );
  }
  const trX = readIdx(dir, FILES.trainImages);
  const trY = readIdx(dir, FILES.trainLabels);
  const teX = readIdx(dir, FILES.testImages);
  const teY = readIdx(dir, FILES.testLabels);
  const check = (x: { dims: number[] }, y: { dims: number[] }, what: string) => {
    if (x.dims.length !== 3 || x.dims[1] !== 28 || x.dims[2] !== 28 || y.dims[0] !== x.dims[0]) {
      throw new UserError(`${dir}: ${what} images/labels have unexpected shapes ${x.dims.join('x')} / ${y.dims.join('x')}`);
    }
  };
  check(trX, trY, 'train');
  check(teX, teY, 'test');
  return {
    name: 'fashion-mnist',
    inputShape: [28, 28, 1],
    inputSize: 784,
    classes: 10,
    inputScale: 1 / 255,
    train: { n: trX.dims[0]!, x: trX.data, y: Int32Array.from(trY.data) },
    test: { n: teX.dims[0]!, x: teX.data, y: Int32Array.from(teY.data) },
  };
}
