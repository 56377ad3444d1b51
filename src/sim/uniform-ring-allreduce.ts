import { RingAllReduceShortcut } from './ring-allreduce-shortcut.ts';

/**
 * Virtual time of ring all-reduces on a ring of identical links without faults, computed on
 * clock arrays instead of through LinkTiming, for time-only runs at 10^4 workers.
 *
 * It performs NetworkModel's arithmetic for a one-hop message in the same order:
 * start = max(send, linkFree); linkFree = start + 8m/B; arrival = (start + 8m/B) + a, with the
 * link from r to r+1 occupied by r alone; and each receiver's clock becomes max(clock,
 * arrival). Phase s of 2(n-1) sends chunk (r - s) mod n (reduce-scatter) or (r + 1 - s') mod n
 * (all-gather, s' = s - (n - 1)) from every r, exactly as comm/collectives does. Same
 * operations on the same doubles give the same doubles, so clocks equal the step-by-step
 * model's bit for bit (test/uniform-ring.test.ts checks it against NetworkModel through the
 * batched collective). Cost: 2n(n-1) iterations of a loop of a few floating-point operations,
 * no calls and no allocation. Without `record`, the exact shortcut (ring-allreduce-shortcut.ts)
 * computes the same doubles in O(n) per all-reduce, stepping phase by phase only across a
 * power of two of virtual time.
 */
export class UniformRingAllReduce {
  /** Per sender r: when its link r -> r+1 is free (NetworkModel's occupancy, 0 = never used). */
  private readonly linkFree: Float64Array;
  /** Serialization time of chunk c, for c in [0, 2n) (doubled so no index needs a modulo). */
  private readonly ser: Float64Array;
  /** Payload bytes each rank sends in one all-reduce. */
  readonly bytesPerRank: Float64Array;
  /** Bytes of chunk c, for c in [0, 2n) (as `ser`). */
  private readonly chunkBytes: Float64Array;
  /** The exact shortcut (null for one rank or an empty vector). */
  readonly shortcut: RingAllReduceShortcut | null;

  constructor(
    readonly n: number,
    /** Length of the all-reduced vector (float32 values). */
    readonly len: number,
    private readonly bandwidth: number,
    private readonly latency: number,
  ) {
    this.linkFree = new Float64Array(n);
    this.ser = new Float64Array(2 * n);
    this.chunkBytes = new Float64Array(2 * n);
    const bytes = new Float64Array(n);
    let total = 0;
    for (let c = 0; c < n; c++) {
      bytes[c] = 4 * (Math.floor(((c + 1) * len) / n) - Math.floor((c * len) / n));
      total += bytes[c]!;
      this.ser[c] = this.ser[c + n] = (bytes[c]! * 8) / bandwidth;
      this.chunkBytes[c] = this.chunkBytes[c + n] = bytes[c]!;
    }
    // Every chunk but r+1 in the reduce-scatter, every chunk but r+2 in the all-gather.
    this.bytesPerRank = new Float64Array(n);
    for (let r = 0; r < n; r++) this.bytesPerRank[r] = n === 1 ? 0 : 2 * total - bytes[(r + 1) % n]! - bytes[(r + 2) % n]!;
    this.shortcut = n === 1 || len === 0 ? null : new RingAllReduceShortcut(n, this.ser, latency);
  }

  /** Messages each rank sends in one all-reduce. */
  get messagesPerRank(): number {
    return this.n === 1 || this.len === 0 ? 0 : 2 * (this.n - 1);
  }

  /**
   * One all-reduce starting at each rank's clock `now[r]`; leaves each rank's finish in `now`.
   * `record`, when given, is told every message as the endpoint would record it (sender, receiver,
   * bytes, virtual send, virtual arrival), in each sender's send order: trace.json's link tracks.
   */
  run(now: Float64Array, record?: (from: number, to: number, bytes: number, send: number, arrival: number) => void): void {
    const n = this.n;
    if (n === 1 || this.len === 0) return;
    if (!record) {
      this.shortcut!.run(now, this.linkFree);
      return;
    }
    this.runStepByStep(now, record);
  }

  /** `run` through all 2n(n-1) messages (the reference the shortcut is tested against). */
  runStepByStep(now: Float64Array, record?: (from: number, to: number, bytes: number, send: number, arrival: number) => void): void {
    const n = this.n;
    if (n === 1 || this.len === 0) return;
    const free = this.linkFree;
    const ser = this.ser;
    const lat = this.latency;
    for (let s = 0; s < 2 * (n - 1); s++) {
      // Rank r sends chunk (r + shift) mod n = ser[r + offset] with offset in [0, n).
      const shift = s < n - 1 ? -s : 1 - (s - (n - 1));
      const offset = ((shift % n) + n) % n;
      let prevArrival = 0;
      for (let r = 0; r < n; r++) {
        const t = now[r]!;
        const f = free[r]!;
        // Math.max(t, f) without its NaN and -0 checks (clocks are finite and >= +0).
        const start = t > f ? t : f;
        const end = start + ser[r + offset]!;
        free[r] = end;
        if (record) record(r, r + 1 === n ? 0 : r + 1, this.chunkBytes[r + offset]!, t, end + lat);
        // Rank r's own send used its clock before this phase's receive: update it now.
        if (r > 0 && prevArrival > t) now[r] = prevArrival;
        prevArrival = end + lat;
      }
      if (prevArrival > now[0]!) now[0] = prevArrival;
    }
  }
}
