import { describe, expect, it } from 'vitest';
import { experimentSchema } from '../src/config/schema.ts';
import { loadConfigText } from '../src/config/load.ts';
import { UserError } from '../src/util/user-error.ts';
import { PAIR_BASE } from '../src/sim/network-model.ts';

describe('limits.maxWorkers and the network model\'s pair keys', () => {
  it('the schema caps maxWorkers so that workers + the server stay below PAIR_BASE (distinct pairs, distinct keys)', () => {
    const max = (experimentSchema as { properties: { limits: { properties: { maxWorkers: { maximum: number } } } } }).properties.limits.properties.maxWorkers.maximum;
    expect(max).toBe(1_000_000);
    // Node indices 0..workers (the server is rank `workers`): from * PAIR_BASE + to is injective iff to < PAIR_BASE.
    expect(max + 1).toBeLessThan(PAIR_BASE);
  });

  it('limits.maxWorkers above it: one located line, exit 2', () => {
    const text = `name: k\nworkers: 4\nlimits: { maxWorkers: 3000000 }\ndata: { dataset: linear, samples: 64, testSamples: 8, features: 2, batchSize: 4 }\nmodel: { kind: linear }\noptimizer: { kind: allreduce-sgd }\ntopology: { kind: ring }\ntrain: { steps: 1 }\n`;
    let msg = '';
    try {
      loadConfigText('exp.yaml', text);
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).exitCode).toBe(2);
      msg = (e as Error).message;
    }
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(/^exp\.yaml:3:\d+: limits\.maxWorkers: .*1000000.*3000000/);
  });
});
