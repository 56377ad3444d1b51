/**
 * A Byzantine worker's behaviour (fault kind `byzantine`), built by the worker host for each of
 * its ranks that the timeline names. The arithmetic of the attacks is comm/byzantine's; this file
 * decides what they are applied to:
 *
 * - sign-flip, scaled, gaussian: the gradient the worker would have sent, from step `from` on.
 * - label-flip: the worker's own data, every label y read as C - 1 - y (a second Trainer over the
 *   same inputs with flipped training labels); what it sends is the honest gradient of that data.
 * - a-little-is-enough: mean - z std per coordinate of the honest workers' gradients of the step.
 *   Baruch et al. assume an omniscient attacker; the emulator makes that assumption concrete:
 *   the attacker recomputes each honest worker's gradient of the step itself, at its own
 *   parameters (those of every worker in a synchronous algorithm) on the very batch that worker
 *   draws (a sampler per honest partition, seeded as that worker's own, advanced once per step
 *   from step 1). This work is knowledge the threat model grants, not computation the attacker
 *   does in time: no virtual compute time is charged for it. "Honest" means named by no
 *   byzantine fault; f (for the default z) counts every worker the timeline names.
 *
 * Everything is seeded (the gaussian stream per rank), so attacks are identical in every
 * transport and process packing.
 */
import { applyAttack, type AttackSpec } from '../../comm/byzantine/apply.ts';
import { flipLabel } from '../../comm/byzantine/attacks.ts';
import type { ByzantineRole, GradientOracle } from '../../optimizers/worker-context.ts';
import type { FaultSchedule } from '../sim/faults.ts';
import { BatchSampler } from '../train/data/batch-sampler.ts';
import type { Dataset } from '../train/data/dataset.ts';
import { Rng } from '../util/rng.ts';

export interface ByzantineSetup {
  faults: FaultSchedule;
  workers: number;
  seed: number;
  batchSize: number;
  shards: readonly Int32Array[];
  /** The process's oracle (honest data). */
  oracle: GradientOracle;
  /** An oracle over the same model with flipped training labels (built once per process, on first use). */
  flippedOracle: () => GradientOracle;
}

/** The role of `rank`, or undefined for an honest worker. */
export function byzantineRoleOf(rank: number, s: ByzantineSetup): ByzantineRole | undefined {
  const mine = s.faults.byzantine(rank);
  if (!mine) return undefined;
  const { attack, from } = mine;
  const attackers = s.faults.byzantineWorkers();
  const f = attackers.length;
  const name = attack.attack;
  const rng = new Rng(s.seed, 'byzantine', rank);
  const normal = (): number => rng.normal();
  // a-little-is-enough: one sampler per honest partition, drawing what its worker draws.
  const honest = name === 'a-little-is-enough' ? Array.from({ length: s.workers }, (_, j) => j).filter((j) => !attackers.includes(j)) : [];
  const samplers = honest.map((j) => new BatchSampler(s.shards[j]!, s.batchSize, s.seed, j));
  let reference: Float32Array[] = [];
  let flipped: GradientOracle | null = null;
  return {
    attackAt: (step) => (step >= from ? name : null),
    oracleAt(step) {
      if (name !== 'label-flip' || step < from) return s.oracle;
      return (flipped ??= s.flippedOracle());
    },
    corrupt(step, params, grad) {
      const batches = samplers.map((b) => b.next());
      if (step < from || name === 'label-flip') return;
      if (name === 'a-little-is-enough') {
        if (reference.length !== honest.length || reference[0]?.length !== grad.length) reference = honest.map(() => new Float32Array(grad.length));
        batches.forEach((b, i) => s.oracle.lossAndGrad(params, b, reference[i]!));
      }
      applyAttack(attack as AttackSpec, grad, grad, { n: s.workers, f, normal, reference });
    },
  };
}

/** The data set with every training label y replaced by C - 1 - y (label-flip). */
export function withFlippedLabels(ds: Dataset): Dataset {
  if (ds.classes < 2 || !(ds.train.y instanceof Int32Array)) throw new Error('label-flip needs a classification data set');
  const y = Int32Array.from(ds.train.y, (v) => flipLabel(v, ds.classes));
  return { ...ds, train: { ...ds.train, y } };
}
