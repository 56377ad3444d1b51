/**
 * Plain (basic) composition (Dwork & Roth, Theorem 3.16): k releases that are (eps_i, delta_i)-DP
 * are (sum eps_i, sum delta_i)-DP together. Loose but simple and always valid; tighter accountants
 * (advanced composition, RDP/moments) would report less. One accountant per node: in DP
 * consensus a node's broadcast of one step is one release, whatever number of neighbours hear it.
 */
export class PlainCompositionAccountant {
  private eps = 0;
  private del = 0;
  private count = 0;

  /** Record `releases` releases of an (epsilon, delta) mechanism. */
  record(epsilon: number, delta: number, releases = 1): void {
    this.eps += epsilon * releases;
    this.del += delta * releases;
    this.count += releases;
  }

  get releases(): number {
    return this.count;
  }
  /** The cumulative guarantee (delta may exceed 1, which then guarantees nothing). */
  get epsilon(): number {
    return this.eps;
  }
  get delta(): number {
    return this.del;
  }
}

/** The cumulative (epsilon, delta) after `steps` identical releases, in closed form. */
export function plainComposition(epsilon: number, delta: number, steps: number): { epsilon: number; delta: number } {
  return { epsilon: epsilon * steps, delta: delta * steps };
}
