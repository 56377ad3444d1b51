import { closeSync, fstatSync, readFileSync } from 'node:fs';
import { cannotRead, openDataFile } from '../../util/open-data-file.ts';
import { UserError } from '../../util/user-error.ts';
import type { Dataset, Split } from './dataset.ts';

export interface CsvSpec {
  /** Absolute paths of the training and test files. */
  train: string;
  test: string;
  /** Column holding the label (0-based; negative counts from the end). */
  labelColumn: number;
  task: 'classification' | 'regression';
  /** Largest file accepted (bytes), checked before it is read; default unbounded. */
  maxBytes?: number;
}

interface Table {
  rows: number;
  cols: number;
  values: Float64Array;
}

/**
 * A numeric CSV file: comma-separated numbers, one sample per line; a first line with any
 * non-numeric cell is a header. Every bad cell is an input error naming file, line and column.
 */
function readTable(file: string, maxBytes = Number.POSITIVE_INFINITY): Table {
  let text: string;
  const fd = openDataFile(file);
  try {
    // Parsed, a CSV takes several times its size in memory: a file beyond the budget is refused unread.
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new UserError(`${file}: expected at most ${maxBytes} bytes (limits.memoryFraction of this machine's memory, over 8 for parsing), found ${size}`);
    text = readFileSync(fd, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw cannotRead(file, e);
  } finally {
    closeSync(fd);
  }
  const lines = text.split(/\r?\n/);
  const out: number[] = [];
  let cols = -1;
  let rows = 0;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split(',');
    const nums = cells.map((c) => (c.trim() === '' ? Number.NaN : Number(c)));
    if (i === 0 && nums.some((v) => Number.isNaN(v))) return; // header
    if (cols < 0) cols = cells.length;
    if (cells.length !== cols) throw new UserError(`${file}:${i + 1}: expected ${cols} columns like the first row, found ${cells.length}`);
    const bad = nums.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new UserError(`${file}:${i + 1}: column ${bad + 1}: expected a number, found ${JSON.stringify(cells[bad]!.trim())}`);
    for (const v of nums) out.push(v);
    rows++;
  });
  if (rows === 0) throw new UserError(`${file}: expected at least one row of numbers, found none`);
  if (cols < 2) throw new UserError(`${file}: expected at least two columns (features and a label), found ${cols}`);
  return { rows, cols, values: Float64Array.from(out) };
}

/** A data set from two CSV files (`data: { format: csv, train, test }`). */
export function loadCsv(spec: CsvSpec): Dataset {
  const train = readTable(spec.train, spec.maxBytes);
  const test = readTable(spec.test, spec.maxBytes);
  if (test.cols !== train.cols) throw new UserError(`${spec.test}: expected ${train.cols} columns like ${spec.train}, found ${test.cols}`);
  const cols = train.cols;
  const label = spec.labelColumn < 0 ? cols + spec.labelColumn : spec.labelColumn;
  if (label < 0 || label >= cols) throw new UserError(`${spec.train}: data.labelColumn ${spec.labelColumn} is outside its ${cols} columns`);
  const features = cols - 1;
  const regression = spec.task === 'regression';
  let classes = 0;
  if (!regression) {
    for (const [t, file] of [
      [train, spec.train],
      [test, spec.test],
    ] as const) {
      for (let r = 0; r < t.rows; r++) {
        const y = t.values[r * cols + label]!;
        if (!Number.isInteger(y) || y < 0) throw new UserError(`${file}: row ${r + 1} of data: label column ${label + 1}: expected a class index (integer >= 0), found ${y}`);
        classes = Math.max(classes, y + 1);
      }
    }
    if (classes < 2) throw new UserError(`${spec.train}: expected labels of at least two classes, found only class 0`);
  }
  const split = (t: Table): Split => {
    const x = new Float32Array(t.rows * features);
    const y = regression ? new Float32Array(t.rows) : new Int32Array(t.rows);
    for (let r = 0; r < t.rows; r++) {
      let k = 0;
      for (let c = 0; c < cols; c++) {
        const v = t.values[r * cols + c]!;
        if (c === label) y[r] = v;
        else x[r * features + k++] = v;
      }
    }
    return { n: t.rows, x, y };
  };
  return { name: 'csv', inputShape: [features], inputSize: features, classes, train: split(train), test: split(test), inputScale: 1 };
}
