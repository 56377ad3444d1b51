import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { datasetFromArrays } from '../src/train/data/arrays-dataset.ts';
import { loadCsv } from '../src/train/data/csv.ts';
import { datasetFromPlugin } from '../src/train/data/dataset-plugin.ts';
import { encodeIdx, readIdxFile } from '../src/train/data/idx.ts';
import { encodeNpy, readNpy } from '../src/train/data/npy.ts';
import { ROOT, tmp } from './helpers/cli.ts';

/**
 * The npy and IDX readers against files numpy wrote (test/fixtures/npy) and hand-made IDX bytes;
 * hostile headers are refused before anything is allocated; arrays become data sets only when
 * shapes and labels are right.
 */
const NPY = join(ROOT, 'test', 'fixtures', 'npy');
const MB = 1 << 20;

describe('npy', () => {
  it('reads what numpy wrote: dtypes, shapes, values, versions 1 and 2', () => {
    const f4 = readNpy(join(NPY, 'f4-2x3.npy'), MB);
    expect(f4.shape).toEqual([2, 3]);
    expect(Array.from(f4.data as Float32Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    const i8 = readNpy(join(NPY, 'i8-3.npy'), MB);
    expect(i8.shape).toEqual([3]);
    expect(Array.from(i8.data as BigInt64Array, Number)).toEqual([0, 2, 1]);
    const u1 = readNpy(join(NPY, 'u1-2x2x2.npy'), MB);
    expect(u1.shape).toEqual([2, 2, 2]);
    expect(Array.from(u1.data as Uint8Array)).toEqual([0, 255, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(readNpy(join(NPY, 'f8-1x2.npy'), MB).data as Float64Array)).toEqual([1.5, -2.25]);
    const v2 = readNpy(join(NPY, 'v2-f4-2.npy'), MB);
    expect([v2.shape, Array.from(v2.data as Float32Array)]).toEqual([[2], [7, 8]]);
  });

  it('writes the bytes numpy writes', () => {
    const x = Float32Array.from([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(Buffer.from(encodeNpy('<f4', [2, 3], x)).equals(readFileSync(join(NPY, 'f4-2x3.npy')))).toBe(true);
    expect(Buffer.from(encodeNpy('<i8', [3], BigInt64Array.from([0n, 2n, 1n]))).equals(readFileSync(join(NPY, 'i8-3.npy')))).toBe(true);
  });

  it('refuses Fortran order, big-endian data, bad magic, truncated data and huge shapes, naming the file', () => {
    expect(() => readNpy(join(NPY, 'fortran.npy'), MB)).toThrow(/fortran\.npy: expected C-order data \(fortran_order False\), found fortran_order True/);
    expect(() => readNpy(join(NPY, 'big-endian.npy'), MB)).toThrow(/big-endian\.npy: expected a little-endian numeric dtype .* found ">f4"/);
    const dir = tmp('dtemu-npy-');
    const junk = join(dir, 'junk.npy');
    writeFileSync(junk, 'x1,x2\n1,2\n');
    expect(() => readNpy(junk, MB)).toThrow(/junk\.npy: expected a NumPy \.npy file/);
    const short = join(dir, 'short.npy');
    writeFileSync(short, encodeNpy('<f4', [2, 3], new Float32Array(6)).subarray(0, 128 + 20));
    expect(() => readNpy(short, MB)).toThrow(/short\.npy: expected 24 data bytes for shape \(2, 3\) of <f4, found 20/);
    // A header claiming 10^18 values is refused from the header: nothing of that size is allocated.
    const huge = join(dir, 'huge.npy');
    writeFileSync(huge, Buffer.from(encodeNpy('|u1', [1, 1], new Uint8Array(1))).toString('latin1').replace('(1, 1)', '(1000000000, 1000000000)'), 'latin1');
    expect(() => readNpy(huge, MB)).toThrow(/huge\.npy: shape \(1000000000, 1000000000\) needs more than 1048576 bytes/);
  });
});

describe('IDX', () => {
  it('reads plain and gzipped files (big-endian floats too)', () => {
    const dir = tmp('dtemu-idx-');
    const img = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 7);
    writeFileSync(join(dir, 'img'), encodeIdx(0x08, [2, 3, 3], img));
    writeFileSync(join(dir, 'img.gz'), gzipSync(encodeIdx(0x08, [2, 3, 3], img)));
    for (const f of ['img', 'img.gz']) {
      const a = readIdxFile(join(dir, f), MB);
      expect(a.dims).toEqual([2, 3, 3]);
      expect(Array.from(a.data as Uint8Array)).toEqual(Array.from(img));
    }
    writeFileSync(join(dir, 'f'), encodeIdx(0x0d, [3], Float32Array.from([1.5, -2, 1e-3])));
    expect(Array.from(readIdxFile(join(dir, 'f'), MB).data as Float32Array)).toEqual(Array.from(Float32Array.from([1.5, -2, 1e-3])));
  });

  it('refuses a gzip bomb, a wrong byte count and a bad magic before allocating', () => {
    const dir = tmp('dtemu-idx-bad-');
    const bomb = join(dir, 'bomb.gz');
    writeFileSync(bomb, gzipSync(new Uint8Array(8 * MB)));
    expect(() => readIdxFile(bomb, MB)).toThrow(/bomb\.gz: inflates to more than 1048576 bytes/);
    const lie = join(dir, 'lie');
    writeFileSync(lie, encodeIdx(0x08, [4, 4], new Uint8Array(16)).subarray(0, 20));
    expect(() => readIdxFile(lie, MB)).toThrow(/lie: expected 16 data bytes for dims 4x4 of unsigned byte, found 8/);
    const claim = join(dir, 'claim');
    const b = encodeIdx(0x08, [1], new Uint8Array(1));
    new DataView(b.buffer).setUint32(4, 0xffffffff);
    writeFileSync(claim, b);
    expect(() => readIdxFile(claim, MB)).toThrow(/claim: shape \(4294967295\) needs more than 1048576 bytes/);
    const npy = join(NPY, 'f4-2x3.npy');
    expect(() => readIdxFile(npy, MB)).toThrow(/f4-2x3\.npy: expected an IDX file/);
  });
});

describe('arrays to a data set', () => {
  const split = (n: number, d: number, labels: number[], name = 't') => ({
    x: new Float32Array(n * d),
    xShape: [n, d],
    xName: `${name}-x`,
    y: labels,
    yShape: [labels.length],
    yName: `${name}-y`,
  });

  it('infers classes, keeps bytes as scaled image data and gives n x h x w images a channel', () => {
    const ds = datasetFromArrays({ name: 'a', train: split(3, 2, [0, 2, 1]), test: split(1, 2, [1]), task: 'classification' });
    expect([ds.classes, ds.inputShape, ds.inputSize, ds.inputScale, ds.train.n]).toEqual([3, [2], 2, 1, 3]);
    const img = { x: new Uint8Array(2 * 4), xShape: [2, 2, 2], xName: 'i', y: [0, 1], yShape: [2], yName: 'l' };
    const im = datasetFromArrays({ name: 'b', train: img, test: img, task: 'classification' });
    expect([im.inputShape, im.inputScale]).toEqual([[2, 2, 1], 1 / 255]);
  });

  it('refuses labels out of range, label counts unlike sample counts, test samples unlike train samples', () => {
    const bad = (train: ReturnType<typeof split>, test = split(1, 2, [1]), classes?: number) => () =>
      datasetFromArrays({ name: 'a', train, test, task: 'classification', ...(classes ? { classes } : {}) });
    expect(bad(split(2, 2, [0, -1]))).toThrow('t-y: label of sample 1: expected a class index (an integer 0..65535), found -1');
    expect(bad(split(2, 2, [0, 1.5]))).toThrow('found 1.5');
    expect(bad(split(2, 2, [0, 70000]))).toThrow('found 70000');
    expect(bad(split(2, 2, [0, 3]), undefined, 3)).toThrow('t-y: label of sample 1: expected a class index (an integer 0..2), found 3');
    expect(bad({ ...split(3, 2, [0, 1, 1]), yShape: [2] })).toThrow('t-y: expected labels of shape (3,) like the 3 samples of t-x, found (2)');
    expect(bad(split(2, 2, [0, 1]), split(1, 3, [0], 'u'))).toThrow('u-x: expected samples of shape (2) like t-x, found (3)');
    expect(bad(split(2, 2, [0, 0]), split(1, 2, [0]))).toThrow('t-y: expected labels of at least two classes, found only class 0');
  });

  it("a data module's arrays: shape, classes and x length are checked, naming the module", () => {
    const where = 'data.module: ./m.ts';
    const ok = { inputShape: [2], train: { x: [1, 2, 3, 4], y: [0, 1] }, test: { x: [1, 2], y: [1] } };
    expect(datasetFromPlugin(ok, where).classes).toBe(2);
    expect(datasetFromPlugin({ ...ok, classes: 0 }, where).classes).toBe(0);
    expect(() => datasetFromPlugin({ ...ok, train: { x: [1, 2, 3], y: [0, 1] } }, where)).toThrow(
      'data.module: ./m.ts: train.x: expected 2 samples (one per label in train.y) x 2 values (inputShape [2]) = 4, found 3',
    );
    expect(() => datasetFromPlugin({ ...ok, inputShape: [0] }, where)).toThrow('data.module: ./m.ts: inputShape: expected a list of positive integers, found [0]');
    expect(() => datasetFromPlugin({ ...ok, test: { x: [1, Number.NaN], y: [1] } }, where)).toThrow('data.module: ./m.ts: test.x: value 1 (sample 0): expected a finite number, found NaN');
    expect(() => datasetFromPlugin(undefined, where)).toThrow('data.module: ./m.ts: expected load() to return');
  });
});

describe('csv size', () => {
  it('a CSV file larger than the budget is refused before it is read', () => {
    const f = join(ROOT, 'experiments', 'plugins', 'data', 'three-clusters-test.csv');
    expect(() => loadCsv({ train: f, test: f, labelColumn: -1, task: 'classification', maxBytes: 1000 })).toThrow(/three-clusters-test\.csv: expected at most 1000 bytes .* found 37194$/);
    expect(loadCsv({ train: f, test: f, labelColumn: -1, task: 'classification', maxBytes: 37194 }).train.n).toBe(600);
  });
});

describe('data files that are not regular files', () => {
  it('a FIFO or a directory named as npy, IDX or CSV data is refused at once (a blocking open would wait for a writer for ever)', () => {
    const dir = tmp();
    const fifo = join(dir, 'x.npy');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const refused = /expected a regular file, found something else/;
    expect(() => readNpy(fifo, MB)).toThrow(refused);
    expect(() => readIdxFile(fifo, MB)).toThrow(refused);
    expect(() => loadCsv({ train: fifo, test: fifo, labelColumn: -1, task: 'classification' })).toThrow(refused);
    expect(() => readNpy(dir, MB)).toThrow(refused);
    expect(() => readNpy(join(dir, 'none.npy'), MB)).toThrow(/none\.npy: cannot read \(ENOENT\)$/);
  });
});
