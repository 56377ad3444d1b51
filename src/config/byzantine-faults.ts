/**
 * The `byzantine` fault kind of the timeline: parsed and checked here (load.ts calls it for each
 * entry, then `checkByzantineTimeline` once), so the attack parameters, the workers and the
 * algorithm are refused with one located line before anything runs.
 */
import { ParameterError } from '../../comm/param-error.ts';
import { validateAttack, type AttackSpec } from '../../comm/byzantine/apply.ts';
import type { Algorithm, OptimizerConfig } from '../../optimizers/algorithm.ts';
import { builtInAlgorithms } from '../../optimizers/registry.ts';
import type { Fault } from '../sim/faults.ts';
import type { ExperimentConfig, FaultConfig } from './types.ts';

type Fail = (key: string, msg: string) => never;

/** The attack of a fault entry in comm/byzantine's form (parameters not yet range-checked). */
function attackOf(f: FaultConfig, fail: Fail): AttackSpec {
  switch (f.attack) {
    case 'sign-flip':
      return { attack: 'sign-flip', ...(f.scale !== undefined ? { scale: f.scale } : {}) };
    case 'scaled':
      if (f.factor === undefined) fail('factor', 'expected a factor for a scaled attack, found nothing');
      return { attack: 'scaled', factor: f.factor! };
    case 'gaussian':
      if (f.std === undefined) fail('std', 'expected a standard deviation std for a gaussian attack, found nothing');
      return { attack: 'gaussian', std: f.std!, ...(f.mean !== undefined ? { mean: f.mean } : {}) };
    case 'a-little-is-enough':
      return { attack: 'a-little-is-enough', ...(f.z !== undefined ? { z: f.z } : {}) };
    case 'label-flip':
      return { attack: 'label-flip' };
    default:
      return fail('attack', 'expected an attack (sign-flip, gaussian, scaled, label-flip, a-little-is-enough) for a byzantine fault, found nothing');
  }
}

/** Keys of a fault entry that belong to one attack only: written with another, they are an error. */
const ATTACK_KEYS: Record<string, AttackSpec['attack'][]> = {
  scale: ['sign-flip'],
  factor: ['scaled'],
  std: ['gaussian'],
  mean: ['gaussian'],
  z: ['a-little-is-enough'],
};

/** One `byzantine` entry of the timeline, checked against the run (workers, algorithm, data). */
export function parseByzantineFault(f: FaultConfig, c: ExperimentConfig, algorithm: Algorithm<OptimizerConfig>, fail: Fail): Fault {
  if (f.at !== undefined) fail('at', `expected no 'at' for a byzantine fault (it starts at step 'from'), found ${JSON.stringify(f.at)}`);
  if (f.for !== undefined) fail('for', 'expected no window for a byzantine fault (it lasts from step `from` to the end), found one');
  if (f.workers === undefined) fail('workers', 'expected a list of workers for a byzantine fault, found nothing');
  const workers = f.workers!;
  for (const w of workers) if (w >= c.workers) fail('workers', `expected worker ranks below workers (${c.workers}), found ${w}`);
  if (new Set(workers).size !== workers.length) fail('workers', `expected distinct workers, found ${JSON.stringify(workers)}`);
  const attack = attackOf(f, fail);
  for (const [key, attacks] of Object.entries(ATTACK_KEYS)) {
    if ((f as unknown as Record<string, unknown>)[key] !== undefined && !attacks.includes(attack.attack)) {
      fail(key, `does not apply to attack ${attack.attack} (it is a key of ${attacks.join(', ')})`);
    }
  }
  if (algorithm.byzantine !== true) {
    const supported = builtInAlgorithms().filter((a) => a.byzantine === true).map((a) => a.kind);
    fail('kind', `expected an algorithm whose workers send their gradients (${supported.join(', ')}) for a byzantine fault, found optimizer ${c.optimizer.kind}`);
  }
  if (attack.attack === 'label-flip' && (c.data.dataset === 'linear' || c.data.task === 'regression' || c.model.kind === 'linear')) {
    fail('attack', 'expected a classification data set for label-flip (labels C-1-y), found a regression task');
  }
  return { kind: 'byzantine', workers: [...workers], attack, from: f.from ?? 1 };
}

/**
 * Checks across the byzantine entries: a worker attacks in one entry only, and each attack's
 * parameters suit n workers of which f (all entries together) are Byzantine (a-little-is-enough's
 * z needs f < n/2 + 1).
 */
export function checkByzantineTimeline(faults: readonly Fault[], workers: number, fail: (index: number, key: string, msg: string) => never): void {
  const seen = new Map<number, number>();
  faults.forEach((x, i) => {
    if (x.kind !== 'byzantine') return;
    for (const w of x.workers) {
      const j = seen.get(w);
      if (j !== undefined) fail(i, 'workers', `expected each worker in one byzantine fault, found worker ${w} in faults.${j} too`);
      seen.set(w, i);
    }
  });
  const f = seen.size;
  if (f >= workers && f > 0) {
    const last = [...seen.values()].pop()!;
    fail(last, 'workers', `expected at least one honest worker, found all ${workers} workers Byzantine`);
  }
  faults.forEach((x, i) => {
    if (x.kind !== 'byzantine') return;
    try {
      validateAttack(x.attack, workers, f);
    } catch (e) {
      if (!(e instanceof ParameterError)) throw e;
      fail(i, e.key === 'workers' ? 'workers' : e.key, `expected ${e.expected}, found ${e.found}`);
    }
  });
}
