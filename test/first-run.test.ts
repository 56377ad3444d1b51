import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemu, ROOT, tmp } from './helpers/cli.ts';

// npm's own CLI, next to the node that runs the tests (Debian's nodejs or a nvm install).
const NPM_CLI = [join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')].find((f) => existsSync(f));

describe('first run on a fresh machine', () => {
  it.skipIf(existsSync(join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node-gpu')))('backend node-gpu without its package is a located input error before any run directory exists', () => {
    const dir = tmp();
    const file = join(dir, 'gpu.yaml');
    writeFileSync(file, 'name: gpu\nbackend: node-gpu\nworkers: 2\ndata: { dataset: blobs, samples: 200 }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\n');
    const r = dtemu(['run', file, '--out', join(dir, 'run')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `dtemu: ${file}:2:10: backend: expected a backend installed here, found node-gpu without @tensorflow/tfjs-node-gpu ` +
        '(README "GPU and native backends" says how to install it; backend: auto uses the fastest one present)',
    );
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  // (./data of the checkout is searched too: a checkout holding the data cannot play a fresh machine.)
  const localData = ['fashion-mnist', ''].some((d) => existsSync(join(ROOT, 'data', d, 'train-images-idx3-ubyte.gz')));
  it.skipIf(!NPM_CLI || localData)('`npm start` without Fashion-MNIST and without apt-get exits 2 with one line naming the command to run', () => {
    const dir = tmp('dtemu-fresh-');
    const bin = join(dir, 'bin');
    const empty = join(dir, 'empty');
    mkdirSync(bin);
    mkdirSync(empty);
    // A PATH with node and sh only: npm works, apt-get (and sudo) do not exist.
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const runs = join(ROOT, 'runs');
    const before = existsSync(runs) ? readdirSync(runs) : [];
    const r = spawnSync(process.execPath, [NPM_CLI!, 'start', '--silent'], {
      cwd: ROOT,
      encoding: 'utf8',
      // No data anywhere it is searched: $DTEMU_DATA and the system's data sets are empty directories.
      env: { HOME: dir, PATH: bin, DTEMU_DATA: empty, DTEMU_SYSTEM_DATA: empty, npm_config_update_notifier: 'false' },
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^dtemu: Fashion-MNIST is missing: cannot fetch it here \(no apt-get\); run: mkdir -p data\/fashion-mnist && for f in /);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) expect(lines[0]).toContain(f);
    expect(r.stdout).toBe('');
    // Nothing was created: the check runs before the run directory.
    expect(existsSync(runs) ? readdirSync(runs) : []).toEqual(before);
  });
});
