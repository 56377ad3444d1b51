import { join } from 'node:path';
import { expect, it } from 'vitest';
import { dtemu, json, tmp } from './helpers/cli.ts';

/**
 * `dtemu simulate` runs every rank in its own process whatever transport.kind says (ws by
 * default). A fault-timeline crash there used to take the ws branch and SIGKILL the process
 * itself: exit 137 and a manifest left "running". Now only a ws worker process dies for real.
 */
it('dtemu simulate of a crash experiment (transport ws by default) completes: the crash does not kill the simulating process', () => {
  const out = join(tmp(), 'run');
  const r = dtemu(['simulate', 'experiments/faults/crash-rejoin.yaml', '--out', out, '--set', 'train.steps=60', '--set', 'train.evalEvery=30']);
  expect(r.signal).toBeNull();
  expect(r.code, r.stderr).toBe(0);
  expect(json(join(out, 'manifest.json'))['status']).toBe('completed');
  // Worker 2 crashed at step 50 and is down at the end (it rejoins at step 80).
  expect(json<{ steps: number }>(join(out, 'summary.json')).steps).toBe(60);
});
