/**
 * summary.json's `gossip` block: the neighbour graph's degrees, the mixing rule and, for up to
 * 256 workers, W's second-largest eigenvalue modulus lambda (pure averaging shrinks the
 * consensus distance by lambda^2 per step) and the spectral gap 1 - lambda. The dense W is
 * assembled from the workers' own rows (mixing-row.ts), so it is the matrix the run used.
 */
import { MixingMatrix } from '../../comm/gossip/mixing-matrix.ts';
import { mixingRow } from '../../comm/gossip/mixing-row.ts';
import { secondLargestEigenvalueModulus } from '../../comm/gossip/spectral.ts';
import type { GossipConfig } from './gossip-options.ts';

/** Jacobi on n x n costs O(n^3): ~0.5 s at 256. */
const SPECTRUM_MAX_WORKERS = 256;

export function gossipSummary(cfg: GossipConfig, neighbours?: () => number[][] | null): Record<string, unknown> {
  const adj = neighbours?.();
  if (!adj) return {};
  const n = adj.length;
  const degrees = adj.map((a) => a.length);
  const out: Record<string, unknown> = {
    mixing: typeof cfg.mixing === 'string' ? cfg.mixing : 'weights',
    edges: degrees.reduce((a, b) => a + b, 0) / 2,
    degree: { min: Math.min(...degrees), max: Math.max(...degrees) },
  };
  if (n <= SPECTRUM_MAX_WORKERS) {
    const w = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const r = mixingRow(cfg.mixing, adj, i);
      r.index.forEach((j, c) => (w[i * n + j] = r.weight[c]!));
    }
    const lambda = secondLargestEigenvalueModulus(new MixingMatrix(n, w));
    out['lambda2'] = lambda;
    out['spectralGap'] = 1 - lambda;
  }
  return { gossip: out };
}
