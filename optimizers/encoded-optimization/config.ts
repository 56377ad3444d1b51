/** The optimizer block of encoded optimization and what it implies (block layout, size checks). */
import { ParameterError } from '../../comm/param-error.ts';
import { harmonicEtfEncoding, harmonicDataRowsOk, hadamardRows, isPrime, paleyDataRowsOk, paleyEtfEncoding } from '../../src/coding/encoded/index.ts';

/**
 * none: the uncoded data split over the workers; replication: each of n / beta partitions held
 * by beta workers; gaussian, hadamard, etf: the encodings of src/coding/encoded.
 */
export type EncodingKind = 'none' | 'replication' | 'gaussian' | 'hadamard' | 'etf';

export interface EncodedOptimizationConfig {
  /** Workers the master waits for each step (the first k by virtual arrival). */
  k: number;
  encoding: EncodingKind;
  /** Redundancy M / N (gaussian, hadamard: any valid size; replication: copies of each partition). */
  beta?: number;
  /** etf: the frame's construction. */
  construction?: 'paley' | 'harmonic';
  method: 'gd' | 'lbfgs';
  lr: number;
  /** lbfgs: curvature pairs kept. */
  memory?: number;
  /** lambda of the ridge term lambda/2 ||w||^2 (0: plain least squares). */
  ridge: number;
}

/**
 * The blocks the master combines: one per worker (encodings, uncoded), or one per partition with
 * replication (workers r and r + n/beta hold partition r mod n/beta).
 */
export function blockCount(cfg: EncodedOptimizationConfig, workers: number): number {
  return cfg.encoding === 'replication' ? workers / (cfg.beta ?? 1) : workers;
}

export function blockOf(cfg: EncodedOptimizationConfig, workers: number, rank: number): number {
  return rank % blockCount(cfg, workers);
}

/**
 * Encoded rows M for data with n rows; throws a ParameterError (key beta, samples, construction)
 * when the encoding cannot have that size, without building anything expensive.
 */
export function encodedRows(cfg: EncodedOptimizationConfig, n: number, workers: number): number {
  const beta = cfg.beta ?? 1;
  switch (cfg.encoding) {
    case 'none':
      return n;
    case 'replication':
      if (!Number.isInteger(beta) || workers % beta !== 0) {
        const ok = Array.from({ length: workers }, (_, i) => i + 1).filter((b) => workers % b === 0 && b > 1);
        throw new ParameterError('beta', `an integer number of copies dividing workers (${workers}) for replication, e.g. ${ok.join(', ')}`, String(beta));
      }
      return n * beta;
    case 'gaussian':
      if (!(beta >= 1)) throw new ParameterError('beta', 'a redundancy factor beta >= 1', String(beta));
      return Math.round(beta * n);
    case 'hadamard':
      return hadamardRows(n, beta);
    case 'etf':
      if ((cfg.construction ?? 'paley') === 'paley') {
        if (!paleyDataRowsOk(n)) paleyEtfEncoding(n); // throws the located size error
        return 2 * n;
      }
      if (!harmonicDataRowsOk(n)) harmonicEtfEncoding(n);
      // v = q, the prime = 3 (mod 4) of the default difference set (etf-harmonic.ts).
      return isPrime(2 * n + 1) && (2 * n + 1) % 4 === 3 ? 2 * n + 1 : 2 * n - 1;
  }
}

/**
 * Rows each block gets, compared with the block count: encodings split their M encoded rows over
 * the n workers, replication the N uncoded rows over n / beta partitions (each held beta times),
 * so N (not N beta) must cover the partitions, or a block is empty and skews the master's B / |A|.
 * Returns what is short, or null.
 */
export function emptyBlocks(cfg: EncodedOptimizationConfig, size: number, rows: number, workers: number): { blocks: number; found: number; what: string } | null {
  const blocks = blockCount(cfg, workers);
  const found = cfg.encoding === 'replication' ? size : rows;
  return found < blocks ? { blocks, found, what: cfg.encoding === 'replication' ? 'data row' : 'encoded row' } : null;
}
