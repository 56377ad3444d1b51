// Bursty stragglers for sequential-coding-bursts.yaml: every 3rd step two workers (a different
// pair each time) stall for 200 ms. In any 3 consecutive steps at most 2 distinct workers
// straggle, each for one step: the (B, W, lambda) = (1, 3, 2) model of sequential gradient coding.
// Pure function of (worker, step): it runs in every worker process.
export default function bursts({ worker, step }: { worker: number; step: number }) {
  const burst = step % 3 === 0;
  const pair = (step / 3) % 4;
  return { stall: burst && (worker === 2 * pair || worker === 2 * pair + 1) ? 0.2 : 0 };
}
