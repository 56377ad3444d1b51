import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtemu, metrics, ROOT, tmp } from './helpers/cli.ts';

/**
 * Experiments whose transfers never contend keep their metrics: the tiny-blobs fixture (ring,
 * stragglers) gives, step for step, the numbers recorded with the network model before
 * topologies, sharing and collectives were added (main at 61e6f82); so does its star variant
 * with `network.sharing: fifo` (under max-min its pushes and replies share the server's port).
 */
const KEYS = ['kind', 'step', 'simTimeSec', 'loss', 'bits', 'evalLoss', 'evalAccuracy'];

describe('network regression', () => {
  for (const kind of ['ring', 'star']) {
    it(`${kind}: the same metrics as before the network model changed`, () => {
      const dir = join(tmp(), kind);
      const r = dtemu(['run', 'test/fixtures/tiny-blobs.yaml', '--out', dir, '--quiet', '--set', 'transport.kind=inproc', '--set', 'train.steps=15', '--set', `topology.kind=${kind}`, ...(kind === 'star' ? ['--set', 'network.sharing=fifo'] : [])]);
      expect(r.code).toBe(0);
      // `bits` was what the workers sent; it is now `uplinkBits` (bits also counts the server's
      // downlink since the first-hour change), so the recorded numbers compare with that.
      const got = metrics(dir).map((l) => Object.fromEntries(KEYS.filter((k) => k in l).map((k) => [k, k === 'bits' && 'uplinkBits' in l ? l['uplinkBits'] : l[k]])));
      const golden = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'golden', `tiny-blobs-${kind}-15.json`), 'utf8')) as unknown[];
      expect(got).toEqual(golden);
    });
  }
});
