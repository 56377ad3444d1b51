/**
 * encoded-optimization's sizes refused at load (pure config checks, nothing is encoded): an
 * encoding whose arrays exceed the run's memory budget or whose one-off encoding exceeds
 * ENCODE_MAX_MULTIPLY_ADDS, and replication with fewer rows than partitions.
 */
import { describe, expect, it } from 'vitest';
import { totalmem } from 'node:os';
import { loadConfigText } from '../src/config/load.ts';
import { UserError } from '../src/util/user-error.ts';
import { ENCODE_MAX_MULTIPLY_ADDS, encodingCost } from '../optimizers/encoded-optimization/encoding-cost.ts';
import { encodedRows, type EncodedOptimizationConfig } from '../optimizers/encoded-optimization/config.ts';
import { hadamardRows } from '../src/coding/encoded/index.ts';
import { encodedBlockFor } from '../optimizers/encoded-optimization/encoded-data.ts';
import { columnBlockFor } from '../optimizers/encoded-optimization/model-parallel.ts';
import { ParameterError } from '../comm/param-error.ts';

function config(optimizer: string, data: string, model = 'linear', extra = ''): string {
  return `name: eo-limits
workers: 6
data: { ${data} }
model: { kind: ${model} }
optimizer: ${optimizer}
topology: { kind: star }
train: { steps: 10 }
${extra}
`;
}

function refused(text: string): string {
  try {
    loadConfigText('exp.yaml', text);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(2);
    const msg = (e as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
  throw new Error('accepted');
}

const linear = (samples: number, features = 5) => `dataset: linear, samples: ${samples}, testSamples: 100, features: ${features}, batchSize: 1`;
const cfg = (o: Partial<EncodedOptimizationConfig>): EncodedOptimizationConfig => ({ k: 1, encoding: 'gaussian', method: 'gd', lr: 0.1, ridge: 0, ...o });

describe('encoded-optimization: sizes refused at load', () => {
  it('beta: 1e12 (gaussian) is a located error at optimizer.beta with expected vs found, not a typed-array RangeError', () => {
    const msg = refused(config('{ kind: encoded-optimization, k: 3, encoding: gaussian, beta: 1e12 }', linear(1024)));
    expect(msg).toMatch(/^exp\.yaml:\d+:\d+: optimizer\.beta: encoding gaussian would need .* \(M = 1024000000000000 encoded rows\), expected at most .*; found beta 1000000000000$/);
  });

  it('beta: 1000 on 1024 rows (gaussian: M N (p + 2) multiply-adds over the cap) is refused at optimizer.beta; beta 4 is accepted', () => {
    // M = 1,024,000, N = 1024, 20 features: 1.024e6 x 1024 x 22 = 2.3e10 multiply-adds.
    const msg = refused(config('{ kind: encoded-optimization, k: 3, encoding: gaussian, beta: 1000 }', linear(1024, 20)));
    expect(msg).toMatch(/optimizer\.beta: encoding gaussian would need 2\.31e\+10 multiply-adds to encode \(M = 1024000 encoded rows\), expected at most 1e\+10; found beta 1000$/);
    expect(() => loadConfigText('exp.yaml', config('{ kind: encoded-optimization, k: 3, encoding: gaussian, beta: 4 }', linear(1024, 20)))).not.toThrow();
  });

  it('the Hadamard size rule allocates nothing and caps M at 2^30', () => {
    expect(hadamardRows(1000, 1024 / 1000)).toBe(1024);
    expect(() => hadamardRows(1000, 2 ** 40 / 1000)).toThrow(/at most 2\^30/);
    const msg = refused(config(`{ kind: encoded-optimization, k: 3, encoding: hadamard, beta: ${2 ** 40 / 1024} }`, linear(1024)));
    expect(msg).toMatch(/optimizer\.beta: expected beta \* N at most 2\^30 for the hadamard encoding \(N = 1024\)/);
  });

  it('an ETF over many rows (dense M x N and Paley\'s M x M projection) is refused at data.samples', () => {
    // N = 100,003: 2N - 1 = 200,005 = 5 x 40,001 is not prime; N = 100,009: 200,017 is a prime = 1 (mod 4).
    const n = [100_003, 100_009, 100_011, 100_015, 100_021].find((v) => encodedRowsOk(v))!;
    const msg = refused(config('{ kind: encoded-optimization, k: 3, encoding: etf }', linear(n)));
    expect(msg).toMatch(new RegExp(`data\\.samples: encoding etf would need .* \\(M = ${2 * n} encoded rows\\), expected at most .*; found ${n} samples$`));
  });

  it('the model-parallel path (logistic) blames data.features', () => {
    const msg = refused(config('{ kind: encoded-optimization, k: 3, encoding: gaussian, beta: 100000 }', 'dataset: logistic, samples: 2000, testSamples: 100, features: 20, batchSize: 1', 'logistic'));
    expect(msg).toMatch(/optimizer\.beta: encoding gaussian would need/);
    const wide = refused(config('{ kind: encoded-optimization, k: 3, encoding: gaussian, beta: 1 }', 'dataset: logistic, samples: 4000, testSamples: 100, features: 20000, batchSize: 1', 'logistic'));
    expect(wide).toMatch(/data\.(features|samples): /);
  });

  it('the memory budget is limits.memoryFraction of this machine: the same config passes or fails with it', () => {
    // Gaussian least squares: 8 (N q + M q + M p) bytes; N = 2^10 rows, 9 features, beta 256 => M = 2^18: about 44 MB.
    const c = encodingCost(cfg({ beta: 256 }), { size: 2 ** 10, rows: 2 ** 18, width: 10, samples: 2 ** 10, modelParallel: false });
    expect(c.bytes).toBe(8 * (2 ** 10 * 11 + 2 ** 18 * 11 + 2 ** 18 * 10));
    expect(c.multiplyAdds).toBe(2 ** 18 * 2 ** 10 * 11);
    expect(c.multiplyAdds).toBeLessThan(ENCODE_MAX_MULTIPLY_ADDS);
    // A fraction that leaves less than that for the encoding refuses it (at beta: at beta 1 it fits).
    const fraction = (c.bytes / 2 / totalmem()).toPrecision(3);
    const text = (f: string) => config('{ kind: encoded-optimization, k: 3, encoding: gaussian, beta: 256 }', linear(2 ** 10, 9), 'linear', `limits: { memoryFraction: ${f} }`);
    expect(refused(text(fraction))).toMatch(/optimizer\.beta: encoding gaussian would need 44\.1 MB for the encoding \(M = 262144 encoded rows\), expected at most .*; found beta 256$/);
    expect(() => loadConfigText('exp.yaml', text('0.5'))).not.toThrow();
  });

  it('replication: N rows over n / beta partitions need N >= n / beta (the old check compared N beta)', () => {
    // 6 workers, beta 2: 3 partitions. N = 2 rows: N beta = 4 >= 3 passed the rule before, leaving a
    // partition empty (synthetic data then failed later at data.batchSize; csv data ran).
    const msg = refused(config('{ kind: encoded-optimization, k: 3, encoding: replication, beta: 2 }', linear(2)));
    expect(msg).toMatch(/exp\.yaml:\d+:\d+: data\.samples: expected at least one data row per block \(3 blocks\), found 2$/);
    expect(() => loadConfigText('exp.yaml', config('{ kind: encoded-optimization, k: 3, encoding: replication, beta: 2 }', linear(6)))).not.toThrow();
    expect(encodedRows(cfg({ encoding: 'replication', beta: 2 }), 2, 6)).toBe(4);
  });

  it('csv data (size known only when the workers load it): the same checks before anything is encoded', () => {
    const rows = (n: number) => ({ n, inputSize: 3, inputScale: 1, classes: 0, x: new Float32Array(n * 3), y: new Float32Array(n), batchSize: 1 });
    const blockOf = (c: EncodedOptimizationConfig, n: number) => () => encodedBlockFor(c, rows(n), 6, 0, 1);
    expect(blockOf(cfg({ encoding: 'replication', beta: 2 }), 2)).toThrow(ParameterError);
    expect(blockOf(cfg({ encoding: 'replication', beta: 2 }), 2)).toThrow(/at least one data row per block \(3 blocks\)/);
    expect(blockOf(cfg({ encoding: 'replication', beta: 2 }), 3)().rows).toBe(1);
    // Gaussian, beta 1000 on 2000 rows: 2e6 x 2000 x 5 = 2e10 multiply-adds, refused without drawing S.
    expect(blockOf(cfg({ encoding: 'gaussian', beta: 1000 }), 2000)).toThrow(/at most 1e\+10 multiply-adds/);
    // A classifier (model parallel): 3 features + 1 = 4 parameters per class, beta 1e9 => M = 4e9.
    const labelled = { n: 10, inputSize: 3, inputScale: 1, classes: 2, x: new Float32Array(30), y: new Int32Array(10), batchSize: 1 };
    expect(() => columnBlockFor(cfg({ encoding: 'gaussian', beta: 1e9 }), labelled, 6, 0, 1)).toThrow(/at most 1e\+10 multiply-adds \(encoding gaussian, M = 4000000000, 10 rows\)/);
    expect(columnBlockFor(cfg({ encoding: 'gaussian', beta: 3 }), labelled, 6, 0, 1).m).toBe(12);
  });
});

function encodedRowsOk(n: number): boolean {
  try {
    encodedRows(cfg({ encoding: 'etf' }), n, 6);
    return true;
  } catch {
    return false;
  }
}
