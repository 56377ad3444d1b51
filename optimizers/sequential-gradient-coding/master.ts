import { bytesToF32 } from '../../comm/collectives/chunks.ts';
import type { Endpoint } from '../../comm/endpoint.ts';
import { combine, type GradientCode } from '../../src/coding/index.ts';
import { SelectiveReattempt } from '../../src/coding/sequential/selective-reattempt.ts';
import { learningRate } from '../common/lr-schedule.ts';
import { runMasterRounds } from '../common/master-round.ts';
import type { Membership } from '../common/rejoin.ts';
import { sgdStep } from '../common/sgd-update.ts';
import { SEQUENTIAL_NAMESPACE, type SequentialCodingConfig } from './worker.ts';

/** What the master did in one round (tests, experiments). */
export interface SequentialRound {
  step: number;
  /** Workers it did not wait for (empty: it waited for all). */
  stragglers: number[];
  /** Jobs decoded at the end of the round, oldest first, and the decoded full gradients (sum over partitions). */
  decoded: { job: number; gradient: Float32Array }[];
  /** The job each worker computed this round. */
  tasks: number[];
  decidedAt: number;
}

/**
 * The SR-SGC master on the parameter-server endpoint:
 *
 *   for r = 1..T:
 *     pushes in virtual arrival order (receivePushes; on the shared port that is send order);
 *       the first to arrive sets cutoff = roundStart + (1 + mu) (its finish - roundStart), a
 *       push's finish being its send time; the first push to arrive that finished after the
 *       cutoff decides: the workers not yet accepted are this round's stragglers
 *     ignore them only if the pattern stays within the (B, W, lambda) model, job r - B decodes
 *       now, and (in the last B rounds) job r too; otherwise wait for all
 *     for each job that decodes (r - B first, then r): g = decode(first n - s deliverers) / n;
 *       x = SGD(x, g)
 *     reply x and the next round's reattempt flags (n floats: 1 = reattempt job r + 1 - B)
 *
 * The reply carries the flags because only the master knows who was ignored; they are real
 * bytes on the downlink and counted as such.
 */
export async function runSequentialCodingMaster(
  server: Endpoint,
  cfg: SequentialCodingConfig,
  code: GradientCode,
  initialParams: Float32Array,
  steps: number,
  membership: Membership,
  onRound?: (r: SequentialRound) => void,
): Promise<void> {
  const n = server.size;
  const d = initialParams.length;
  const sr = new SelectiveReattempt({ n, B: cfg.B, W: cfg.W, lambda: cfg.lambda });
  const s = sr.s;
  const model = Float32Array.from(initialParams);
  const velocity = new Float32Array(d);
  const grad = new Float32Array(d);
  const reply = new Float32Array(d + n);
  const vectors = new Map<number, Map<number, Float32Array>>();
  let round = 1;
  let roundStart = server.now;
  // The current round's decision, made at the first push later than the cutoff.
  let cutoff = 0;
  let mode: 'open' | 'cut' | 'all' = 'open';
  const accepted: number[] = [];
  await runMasterRounds({
    server,
    namespace: SEQUENTIAL_NAMESPACE,
    membership,
    roundSteps: Array.from({ length: steps }, (_, i) => i + 1),
    accept(k, _arrival, _taken, push) {
      if (k === 0) {
        mode = 'open';
        accepted.length = 0;
        cutoff = roundStart + (1 + cfg.mu) * (push.m.sendTime - roundStart);
      }
      if (mode === 'all') return true;
      if (mode === 'cut') return false;
      if (push.m.sendTime <= cutoff) {
        accepted.push(push.r);
        return true;
      }
      const late = Array.from({ length: n }, (_, i) => i).filter((i) => !accepted.includes(i));
      const out = sr.outcome(round, late);
      const ok = sr.conforms(round, late) && out.complete && (round <= steps - cfg.B || out.decoded.includes(round));
      mode = ok ? 'cut' : 'all';
      return mode === 'all';
    },
    reduce(step, pushes) {
      const tasks = sr.tasks(step);
      const stragglers = pushes.filter((p) => !p.used).map((p) => p.r).sort((a, b) => a - b);
      let decidedAt = server.now;
      for (const p of pushes) {
        if (!p.used) continue;
        decidedAt = Math.max(decidedAt, p.at);
        const job = tasks[p.r]!;
        const m = vectors.get(job) ?? new Map<number, Float32Array>();
        m.set(p.r, Float32Array.from(bytesToF32(p.m.payload)));
        vectors.set(job, m);
      }
      // With stragglers the master knew only at the cutoff that they were late.
      if (stragglers.length > 0) decidedAt = Math.max(decidedAt, cutoff);
      const decoded: SequentialRound['decoded'] = [];
      for (const job of sr.record(step, stragglers)) {
        const who = sr.deliveredBy(job).slice(0, n - s);
        const a = Array.from(code.decoder(who), (c) => c / n);
        combine(a, who.map((i) => vectors.get(job)!.get(i)!), grad);
        vectors.delete(job);
        if (onRound) decoded.push({ job, gradient: Float32Array.from(grad, (v) => v * n) });
        sgdStep(model, grad, velocity, learningRate(cfg.lr, cfg.schedule, job, steps), cfg.momentum, cfg.weightDecay, cfg.nesterov);
      }
      server.now = Math.max(server.now, decidedAt);
      onRound?.({ step, stragglers, decoded, tasks: Array.from(tasks), decidedAt });
      reply.set(model);
      const next = sr.tasks(step + 1);
      for (let i = 0; i < n; i++) reply[d + i] = next[i] === step + 1 ? 0 : 1;
      round = step + 1;
      roundStart = server.now;
      return reply;
    },
  });
}
