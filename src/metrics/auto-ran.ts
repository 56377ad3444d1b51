/** What `topology.collective: auto` ran over a run (summary.json's `collective.ran`). */
export interface AutoRanReport {
  /** All-reduces per size (payload bytes) and collective. */
  counts: { bytes: number; algorithm: string; calls: number }[];
  /** The first all-reduce of each size, then every one whose collective differs from the previous of its size (rank 0's entry time). */
  changes: { simTimeSec: number; bytes: number; algorithm: string }[];
  /** Changes beyond the first MAX_AUTO_CHANGES, counted but not listed. */
  changesOmitted: number;
  /** How many times a size's collective differed from the previous one of that size (its first is not a switch), listed or not. */
  switches: number;
}

export const MAX_AUTO_CHANGES = 1000;

/**
 * Accumulates auto's choices as rank 0's step reports bring them, in step order: counts and
 * changes only, so a long run keeps a bounded record.
 */
export class AutoRanLog {
  private readonly counts = new Map<string, { bytes: number; algorithm: string; calls: number }>();
  private readonly last = new Map<number, string>();
  private readonly changes: AutoRanReport['changes'] = [];
  private omitted = 0;
  private switches = 0;

  add(time: number, bytes: number, algorithm: string): void {
    const key = `${bytes}:${algorithm}`;
    const c = this.counts.get(key);
    if (c) c.calls++;
    else this.counts.set(key, { bytes, algorithm, calls: 1 });
    const previous = this.last.get(bytes);
    if (previous === algorithm) return;
    if (previous !== undefined) this.switches++;
    this.last.set(bytes, algorithm);
    if (this.changes.length < MAX_AUTO_CHANGES) this.changes.push({ simTimeSec: time, bytes, algorithm });
    else this.omitted++;
  }

  report(): AutoRanReport {
    const counts = [...this.counts.values()].map((c) => ({ ...c })).sort((x, y) => x.bytes - y.bytes || (x.algorithm < y.algorithm ? -1 : x.algorithm > y.algorithm ? 1 : 0));
    return { counts, changes: this.changes.map((c) => ({ ...c })), changesOmitted: this.omitted, switches: this.switches };
  }
}

/** The report of a list of choices ([entry time, bytes, collective], in order). */
export function autoRanReport(choices: readonly (readonly [number, number, string])[]): AutoRanReport {
  const log = new AutoRanLog();
  for (const [t, b, a] of choices) log.add(t, b, a);
  return log.report();
}
