export interface ScheduleSpec {
  kind: 'constant' | 'step' | 'cosine';
  every: number;
  gamma: number;
  minLr: number;
  warmup: number;
}

/** Learning rate at 1-based `step` of `total`: optional linear warm-up, then the schedule. */
export function learningRate(base: number, s: ScheduleSpec, step: number, total: number): number {
  if (s.warmup > 0 && step <= s.warmup) return (base * step) / s.warmup;
  switch (s.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * Math.pow(s.gamma, Math.floor((step - 1) / s.every));
    case 'cosine': {
      const span = Math.max(1, total - s.warmup);
      const t = Math.min(1, (step - s.warmup - 1) / Math.max(1, span - 1));
      return s.minLr + 0.5 * (base - s.minLr) * (1 + Math.cos(Math.PI * t));
    }
  }
}
