import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../src/config/load.ts';
import { UserError } from '../src/util/user-error.ts';
import { spawnSync } from 'node:child_process';
import { dtemu, ROOT, tmp } from './helpers/cli.ts';

const BASE = `data: { dataset: fashion-mnist }
model: { kind: mlp }
optimizer: { kind: allreduce-sgd }
`;

/** [name, yaml, --set overrides, expected "line:col", key path, a fragment of the message]. */
const CORPUS: [string, string, string[], string, string, string][] = [
  ['syntax error', 'data: {dataset: fashion-mnist\nmodel: {kind: mlp}\n', [], '2:1', '', 'YAML syntax error'],
  ['bad indentation', 'data:\n  dataset: linear\n batchSize: 3\n', [], '3:1', '', 'YAML syntax error'],
  ['duplicate key', BASE + 'seed: 1\nseed: 2\n', [], '5:1', '', 'YAML syntax error'],
  ['unknown top-level key', BASE + 'wokers: 4\n', [], '4:1', 'wokers', "did you mean 'workers'"],
  ['unknown nested key', BASE + 'network:\n  bandwith: 1 Gb/s\n', [], '5:3', 'network.bandwith', "did you mean 'bandwidth'"],
  ['wrong type', 'workers: four\n' + BASE, [], '1:10', 'workers', 'expected an integer, found "four"'],
  ['zero workers', 'workers: 0\n' + BASE, [], '1:10', 'workers', 'expected a number >= 1'],
  ['unitless bandwidth', BASE + 'network: { bandwidth: 100 }\n', [], '4:23', 'network.bandwidth', 'units like'],
  ['negative bandwidth', BASE + 'network: { bandwidth: -1 Gb/s }\n', [], '4:23', 'network.bandwidth', 'non-negative'],
  ['bandwidth in seconds', BASE + 'network: { bandwidth: 10 ms }\n', [], '4:23', 'network.bandwidth', 'wrong units'],
  ['latency with bad unit', BASE + 'network: { latency: 5 parsecs }\n', [], '4:21', 'network.latency', 'time with units'],
  ['unknown optimizer', 'data: { dataset: fashion-mnist }\nmodel: { kind: mlp }\noptimizer: { kind: adamw-sgd }\n', [], '3:20', 'optimizer.kind', 'expected one of'],
  ['missing data set', 'model: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\n', [], '1:1', 'data', 'required key is missing'],
  ['unknown data set', 'data: { dataset: cifar10 }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\n', [], '1:18', 'data.dataset', 'expected one of'],
  ['negative lr', 'data: { dataset: fashion-mnist }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd, lr: -0.1 }\n', [], '3:39', 'optimizer.lr', 'expected a number > 0'],
  ['straggler beyond workers', 'workers: 2\n' + BASE + 'stragglers: { slow: [{ worker: 5, factor: 2 }] }\n', [], '5:32', 'stragglers.slow.0.worker', 'below workers (2)'],
  ['slow factor below 1', BASE + 'stragglers: { slow: [{ worker: 0, factor: 0.5 }] }\n', [], '4:43', 'stragglers.slow.0.factor', '>= 1'],
  ['batch larger than shard', 'workers: 8\ndata: { dataset: linear, samples: 100, batchSize: 64 }\nmodel: { kind: linear }\noptimizer: { kind: allreduce-sgd }\n', [], '2:51', 'data.batchSize', 'shard size'],
  ['cnn on synthetic data', 'data: { dataset: blobs }\nmodel: { kind: cnn }\noptimizer: { kind: allreduce-sgd }\n', [], '2:16', 'model.kind', 'image data set'],
  ['top level is a list', '- a\n- b\n', [], '1:1', '(top level)', 'expected a mapping'],
  ['--set unknown key', BASE, ['optimizer.rnak=4'], '--set optimizer.rnak', 'optimizer.rnak', 'unknown key'],
  ['--set wrong type', BASE, ['workers=many'], '--set workers', 'workers', 'expected an integer'],
  ['too many processes', 'workers: 2\ntransport: { processes: 3 }\n' + BASE, [], '2:25', 'transport.processes', 'at most workers'],
  ['bad backend', 'backend: tpu\n' + BASE, [], '1:10', 'backend', 'expected one of auto, node-gpu, node, wasm, cpu'],
  ['diloco overlap not below H', 'data: { dataset: blobs }\nmodel: { kind: mlp }\noptimizer: { kind: diloco, localSteps: 4, fragments: 2, overlap: 4 }\n', [], '3:66', 'optimizer.overlap', 'below localSteps (4'],
  ['rejoin of the wrong type', BASE + 'faults:\n  - { kind: crash, worker: 1, at: 5, rejoin: [2] }\n', [], '5:46', 'faults.0.rejoin', 'expected a number of steps or a time with units, found a list'],
  ['rejoin without a master', BASE + 'faults:\n  - { kind: crash, worker: 1, at: 5, rejoin: 3 }\n', [], '5:46', 'faults.0.rejoin', 'expected rejoin only with gradient-coding or diloco on a star'],
  ['bad schedule key', 'data: { dataset: fashion-mnist }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd, schedule: { knd: cosine } }\n', [], '3:47', 'optimizer.schedule.knd', "did you mean 'kind'"],
];

describe('config errors', () => {
  for (const [name, yaml, sets, where, key, fragment] of CORPUS) {
    it(`${name}: names file, line and key`, () => {
      let err: unknown = null;
      try {
        loadConfigText('exp.yaml', yaml, { sets });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      const msg = (err as Error).message;
      expect(msg.split('\n')).toHaveLength(1);
      if (where.startsWith('--set')) expect(msg.startsWith(where + ':')).toBe(true);
      else expect(msg.startsWith(`exp.yaml:${where}`)).toBe(true);
      if (key) expect(msg).toContain(` ${key}:`);
      expect(msg).toContain(fragment);
    });
  }

  it('valid files load with every default filled', () => {
    const lc = loadConfigText('exp.yaml', BASE, { sets: ['optimizer.lr=0.5', 'workers=8'] });
    expect(lc.config.workers).toBe(8);
    expect(lc.config.optimizer.lr).toBe(0.5);
    expect(lc.config.topology.kind).toBe('ring');
    expect(lc.config.transport.kind).toBe('ws');
    expect(lc.q.bandwidth).toBe(1e9);
    expect(lc.q.latency).toBe(5e-5);
    expect(lc.q.speed).toBe(1e12);
    expect(lc.config.name).toBe('exp');
  });

  it('the CLI exits 2 with one line and creates no run directory', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'runs'));
    const cases = {
      'malformed.yaml': 'data: [unclosed\n',
      'unknown.yaml': BASE + 'network:\n  bandwidht: 1 Gb/s\n',
    };
    for (const [file, text] of Object.entries(cases)) {
      writeFileSync(join(dir, file), text);
      const out = join(dir, 'runs', file);
      const r = dtemu(['run', join(dir, file), '--out', out]);
      expect(r.stderr).not.toContain('internal error');
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`${file}:\\d+:\\d+: `));
      if (file === 'unknown.yaml') expect(lines[0]).toContain('network.bandwidht: unknown key');
      expect(existsSync(out)).toBe(false);
    }
    expect(readdirSync(join(dir, 'runs'))).toEqual([]);

    // Problems that only show once data is loaded are still input errors: exit 2, no directory.
    writeFileSync(join(dir, 'skewed.yaml'), 'workers: 16\ndata: { dataset: blobs, samples: 200, partition: dirichlet, alpha: 0.01 }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\n');
    const skewed = dtemu(['run', join(dir, 'skewed.yaml'), '--out', join(dir, 'runs', 'skewed')]);
    expect(skewed.code).toBe(2);
    expect(skewed.stderr).toMatch(/data.partition: worker \d+ gets no training samples/);
    const badData = join(dir, 'baddata');
    mkdirSync(badData);
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) writeFileSync(join(badData, f), 'not gzip');
    writeFileSync(join(dir, 'fm.yaml'), BASE);
    const corrupt = spawnSync(process.execPath, [join(ROOT, 'bin', 'dtemu.js'), 'run', join(dir, 'fm.yaml'), '--out', join(dir, 'runs', 'fm')], {
      encoding: 'utf8',
      env: { ...process.env, DTEMU_DATA: badData },
    });
    expect(corrupt.status).toBe(2);
    expect(corrupt.stderr).toContain('cannot read gzip data');
    expect(readdirSync(join(dir, 'runs'))).toEqual([]);

    // An existing non-empty --out is refused rather than overwritten.
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'summary.json'), '{}');
    const taken = dtemu(['run', 'test/fixtures/tiny-blobs.yaml', '--out', join(dir, 'taken')]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain('exists and is not empty');
    const v = dtemu(['validate', 'experiments/quickstart.yaml']);
    expect(v.code).toBe(0);
    const missing = dtemu(['validate', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.yaml: cannot read (ENOENT)');
  });
});
