import { datasetFromArrays, type ArraySplit } from './arrays-dataset.ts';
import type { Dataset } from './dataset.ts';
import { readIdxFile } from './idx.ts';
import { readNpy } from './npy.ts';

/**
 * `data: { format: npy | idx, train: { x, y }, test: { x, y } }`: inputs and labels in separate
 * files (numpy's np.save of X and y; MNIST's images and labels IDX files, gzipped or not).
 */
export interface ArrayFilesSpec {
  format: 'npy' | 'idx';
  /** Absolute paths of the inputs (x) and labels (y) files. */
  train: { x: string; y: string };
  test: { x: string; y: string };
  task: 'classification' | 'regression';
  /** Largest array accepted (bytes), checked from each header before allocating. */
  maxBytes: number;
}

function read(format: 'npy' | 'idx', file: string, maxBytes: number) {
  if (format === 'npy') {
    const a = readNpy(file, maxBytes);
    return { shape: a.shape, data: a.data };
  }
  const a = readIdxFile(file, maxBytes);
  return { shape: a.dims, data: a.data };
}

function split(spec: ArrayFilesSpec, files: { x: string; y: string }): ArraySplit {
  const x = read(spec.format, files.x, spec.maxBytes);
  const y = read(spec.format, files.y, spec.maxBytes);
  return { x: x.data, xShape: x.shape, xName: files.x, y: y.data, yShape: y.shape, yName: files.y };
}

export function loadArrayFiles(spec: ArrayFilesSpec): Dataset {
  return datasetFromArrays({ name: spec.format, train: split(spec, spec.train), test: split(spec, spec.test), task: spec.task });
}
