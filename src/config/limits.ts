import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { cannotRead } from '../util/open-data-file.ts';
import { UserError } from '../util/user-error.ts';
import type { ExperimentConfig } from './types.ts';

/**
 * Limits checked before anything is allocated: the size and type of a config file, and what a
 * config would cost in memory (estimated from its keys, without building the model or loading
 * the data). A typo like `features: 1e8` must be a one-line error, not a V8 out-of-memory.
 */

/** Largest config file read (experiment files are a few KB). */
export const CONFIG_MAX_BYTES = 1024 * 1024;
/** Alias expansions allowed while resolving a YAML document (the `yaml` library's default is 100 as well). */
export const YAML_MAX_ALIASES = 100;
/** Points a sweep may have unless `--max-points` raises it. */
export const SWEEP_MAX_POINTS = 10_000;

/**
 * Read a config file as UTF-8 text: a regular file (not a FIFO, device or directory) of at most
 * CONFIG_MAX_BYTES, holding text (no NUL bytes, valid UTF-8). Opened non-blocking so a FIFO
 * swapped in after the stat cannot hang the read.
 */
export function readConfigFile(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw cannotRead(file, e);
  }
  if (!st.isFile()) throw new UserError(`${file}: expected a YAML file, found ${kindOf(st)}`);
  if (st.size > CONFIG_MAX_BYTES) throw new UserError(`${file}: expected a config of at most ${CONFIG_MAX_BYTES} bytes, found ${st.size} bytes`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw cannotRead(file, e);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new UserError(`${file}: expected a YAML file, found something else`);
    // One byte more than allowed tells a file that grew since the stat.
    const buf = Buffer.alloc(CONFIG_MAX_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === buf.length) throw new UserError(`${file}: expected a config of at most ${CONFIG_MAX_BYTES} bytes, found more`);
    }
    return decodeText(file, buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

function kindOf(st: ReturnType<typeof statSync>): string {
  if (!st) return 'nothing';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** UTF-8 text or a UserError that says where the binary data starts (never echoing it). */
export function decodeText(file: string, bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new UserError(`${file}: expected a YAML text file, found binary data (a NUL byte at offset ${nul})`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${file}: expected a YAML text file in UTF-8, found bytes that are not UTF-8`);
  }
}

/** Input shape and classes of a data set, known from the config alone (moby-dick: an estimate of its vocabulary). */
function dataShape(c: ExperimentConfig, vocab: number): { inputSize: number; inputShape: number[]; classes: number } {
  const d = c.data;
  switch (d.dataset) {
    case 'fashion-mnist':
      return { inputSize: 784, inputShape: [28, 28, 1], classes: 10 };
    case 'moby-dick':
      return { inputSize: d.context, inputShape: [d.context], classes: vocab };
    case 'linear':
      return { inputSize: d.features, inputShape: [d.features], classes: 0 };
    case 'logistic':
      return { inputSize: d.features, inputShape: [d.features], classes: 2 };
    case 'blobs':
      return { inputSize: d.features, inputShape: [d.features], classes: d.classes };
  }
}

/**
 * Parameters of the configured model (the same sizes as src/train/models.ts buildModel, computed
 * without tfjs; a test checks them against buildModel). `vocab` stands in for moby-dick's
 * vocabulary, which is only known once the text is read.
 */
export function estimateParams(c: ExperimentConfig, vocab = 2): number {
  const { inputSize, inputShape, classes } = dataShape(c, vocab);
  const out = classes === 0 ? 1 : classes;
  const m = c.model;
  switch (m.kind) {
    case 'logistic':
    case 'linear':
      return inputSize * out + out;
    case 'mlp': {
      const sizes = [inputSize, ...m.hidden, out];
      let n = 0;
      for (let l = 0; l + 1 < sizes.length; l++) n += sizes[l]! * sizes[l + 1]! + sizes[l + 1]!;
      return n;
    }
    case 'cnn': {
      let [h, w, ch] = inputShape.length === 3 ? (inputShape as [number, number, number]) : [1, inputSize, 1];
      const k = m.kernel;
      let n = 0;
      for (const co of m.channels) {
        n += k * k * ch * co + co;
        ch = co;
        h = Math.ceil(h / 2);
        w = Math.ceil(w / 2);
      }
      return n + h * w * ch * out + out;
    }
    case 'char-lstm': {
      const V = out;
      const E = m.embed;
      const H = m.lstmHidden;
      return V * E + (E + H) * 4 * H + 4 * H + H * V + V;
    }
  }
}

/**
 * Float32 vectors of model size each logical worker keeps (parameters, gradient, momentum, error
 * feedback, compressor and collective scratch) and the process-wide copies (tfjs tensors, the
 * master's model): a deliberate over-estimate, it only has to catch orders of magnitude.
 */
const COPIES_PER_WORKER = 6;
const SHARED_COPIES = 4;

/** Bytes the data set takes in memory (train + test, float32 inputs and labels). */
export function estimateDataBytes(c: ExperimentConfig): number {
  const d = c.data;
  if (d.dataset === 'fashion-mnist') return 70_000 * (784 + 1) * 4;
  if (d.dataset === 'moby-dick') return (d.samples + d.testSamples) * (d.context + 1) * 4 + 8 * 1.2e6;
  return (d.samples + d.testSamples) * (d.features + 1) * 4;
}

export interface MemoryEstimate {
  params: number;
  modelBytes: number;
  dataBytes: number;
  totalBytes: number;
  budgetBytes: number;
}

export function estimateMemory(c: ExperimentConfig, machineBytes = totalmem()): MemoryEstimate {
  const params = estimateParams(c, 128);
  const modelBytes = params * 4 * (COPIES_PER_WORKER * c.workers + SHARED_COPIES);
  // Every worker process loads the data set (ws: one copy per process).
  const processes = c.transport.kind === 'ws' ? (c.transport.processes ?? c.workers) : 1;
  const dataBytes = estimateDataBytes(c) * processes;
  return { params, modelBytes, dataBytes, totalBytes: modelBytes + dataBytes, budgetBytes: machineBytes * c.limits.memoryFraction };
}

export function formatBytes(b: number): string {
  if (b >= 1e12) return `${(b / 1e12).toFixed(1)} TB`;
  if (b >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(1)} MB`;
  return `${Math.round(b / 1e3)} KB`;
}
