// Programmable faults for programmable.yaml: called for every worker-step with its virtual start
// time. Must be a pure function (it runs in every worker process; determinism depends on it).
// Here: every 50 steps a different worker stalls for 0.2 s, and worker 3 computes 2x slower
// during the second simulated second.
export default function faults({ worker, step, time }: { worker: number; step: number; time: number }) {
  const stall = step % 50 === 0 && worker === (step / 50) % 4 ? 0.2 : 0;
  const slow = worker === 3 && time >= 1 && time < 2 ? 2 : 1;
  return { stall, slow };
}
