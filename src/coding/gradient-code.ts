/**
 * Gradient coding (Tandon, Lei, Dimakis, Karampatziakis, "Gradient Coding: Avoiding Stragglers in
 * Distributed Learning", ICML 2017).
 *
 * The data set is split into n partitions with partial gradients g_0..g_{n-1}. Worker i holds the
 * s+1 partitions in the support of row i of an n x n encoding matrix B and sends one vector,
 * c_i = sum_j B[i][j] g_j. For every set F of at least n-s responders there is a vector a with
 * a^T B_F = 1^T, so sum_{i in F} a_i c_i = sum_j g_j: the full gradient, whichever s workers
 * straggle (design invariant 5).
 *
 * - `fractional` (needs (s+1) | n): workers form n/(s+1) groups of s+1; everybody in group g holds
 *   partitions g(s+1) .. g(s+1)+s and sends their plain sum (B is block diagonal with all-ones
 *   blocks). Decoding adds one responder per group (the lowest-numbered), so a is a 0/1 vector
 *   and decoding adds no rounding at all.
 * - `cyclic` (any n > s): worker i holds partitions i, i+1, .., i+s (mod n). Every construction
 *   below follows the paper's recipe: pick an s x n matrix H with H 1 = 0 whose every s columns
 *   are independent, and give row i of B the support {i..i+s} with B[i][i] = 1 and H B[i]^T = 0
 *   (an s x s solve). The rows lie in null(H), which has dimension n-s and contains 1; when
 *   every n-s rows are independent they span null(H), so 1 is in their span. H decides how well
 *   conditioned decoding is, which matters because the coded vectors travel in float32:
 *   - `dft` (default): H spans s consecutive real Fourier frequencies centred on N/2 of length
 *     N = n when n+s is odd, which makes B a circulant real BCH (cyclic MDS) code — every n-s
 *     rows are then provably independent (Raviv, Tamo, Tandon, Dimakis 2018, "Gradient coding from
 *     cyclic MDS codes and expander graphs"); when n+s is even no real cyclic MDS code of this
 *     shape exists, and H uses length N = n+1 restricted to n columns and reweighted by the
 *     closest-to-one weights w with H 1 = 0 (a generalized Reed-Solomon code; MDS because w has
 *     no zero entry). Deterministic: the seed is not used.
 *   - `random`: the paper's randomized construction (its Algorithm 2): H standard normal from a
 *     seeded stream, rows summing to zero; exact with probability one but often badly
 *     conditioned (decode gains of 10^2..10^5 for n = 8..30, against ~1..10^3 for `dft`).
 *   When that is affordable (`VERIFY_WORK`; `options.verify` overrides), construction solves
 *   every surviving set; a failure redraws H for `random` (a new seeded stream) and is an error
 *   for `dft`. Otherwise every set is still checked when it first occurs (residual test at
 *   decode time), so a failure can never pass silently. (`dft` was checked exhaustively for
 *   every n <= 24 and every s < n: all sets decode.)
 *
 * Decoding solves B_F^T a = 1 by float64 least squares (Householder QR with column pivoting),
 * verifies max |B_F^T a - 1| <= `RESIDUAL_TOL`, and caches the result per responder *set*.
 */
import { Rng } from '../util/rng.ts';
import { leastSquares, solveSquare } from './linalg.ts';

export type GradientCodeKind = 'fractional' | 'cyclic';
export type CyclicConstruction = 'dft' | 'random';

export interface GradientCodeOptions {
  /** How the cyclic code's H is chosen (see the module comment). Default `dft`. */
  construction?: CyclicConstruction;
  /**
   * Solve every surviving set at construction. Default: when C(n, s) n (n-s)^2 <= VERIFY_WORK
   * (C(n, s) least-squares solves of n x (n-s) each). `true` forces it whatever the cost.
   */
  verify?: boolean;
}

/** Raised for invalid code parameters and for patterns that cannot be decoded. */
export class GradientCodingError extends Error {
  override name = 'GradientCodingError';
}

/** Max |B_F^T a - 1| accepted by the decoder (the targets are 1, so this is also relative). */
export const RESIDUAL_TOL = 1e-8;
/**
 * By default construction checks every surviving set when C(n, s) n (n-s)^2 (the flops of that
 * many n x (n-s) QR solves, roughly) is at most this: about 0.1 s on one core. Covers e.g.
 * n <= 12 for any s, n = 16 with s <= 4, n = 24 with s <= 2, n = 48 with s = 1.
 */
export const VERIFY_WORK = 2e7;
/** Decoded patterns kept per code (least recently used are dropped beyond this). */
export const DECODER_CACHE_SIZE = 4096;

/** A decoding vector for one responder set (cached and shared: do not mutate `a`). */
export interface Decoding {
  /** The responders, ascending. */
  readonly responders: readonly number[];
  /** a[k] multiplies the coded vector of worker responders[k]; a^T B_F = 1^T. */
  readonly a: Float64Array;
  /** max_j |(B_F^T a)_j - 1|, computed in float64; always <= RESIDUAL_TOL. */
  readonly residual: number;
  /**
   * Rounding amplification: sqrt(sum_k a_k^2 ||B_{F_k}||_2^2 / n). With independent partition
   * gradients the float32 relative error of the decoded gradient is about gain x 2^-24 (the
   * error of the coded vectors' float32 rounding, amplified by decoding); 1 for fractional codes.
   */
  readonly gain: number;
}

export interface GradientCode {
  readonly kind: GradientCodeKind;
  /** The cyclic construction used (`undefined` for fractional codes). */
  readonly construction: CyclicConstruction | undefined;
  /** Number of workers = number of data partitions. */
  readonly n: number;
  /** Number of stragglers tolerated. */
  readonly s: number;
  /** n - s: the number of responders decoding needs. */
  readonly minResponders: number;
  /**
   * Largest `gain` over all surviving sets of exactly n-s workers when construction checked them
   * all (see VERIFY_WORK); NaN when it did not.
   */
  readonly maxDecodeGain: number;
  /** The s+1 partitions worker `worker` holds (and computes gradients of), ascending. */
  partitionsOf(worker: number): number[];
  /** Row `worker` of B (a copy): length n, nonzero exactly on partitionsOf(worker). */
  coefficients(worker: number): Float64Array;
  /**
   * The decoding for a responder set given in any order (at least n-s distinct workers). The
   * same set in any order returns the same cached object, whose `responders` are ascending.
   * Throws GradientCodingError with fewer than n-s responders or if the set does not decode.
   */
  decoding(responders: readonly number[]): Decoding;
  /**
   * The decoding vector aligned with `responders` exactly as given: a fresh Float64Array whose
   * k-th entry multiplies the coded vector of responders[k]. Reordering the responders reorders
   * the values the same way (both come from one cached solve per set).
   */
  decoder(responders: readonly number[]): Float64Array;
  /** Number of decodings computed so far at decode time (cache misses); for tests and metrics. */
  readonly solves: number;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new GradientCodingError(`gradient coding: ${name} must be an integer >= ${min}, got ${v}`);
  }
}

/**
 * Build a gradient code for n workers tolerating s stragglers. `seed` only matters for the
 * `random` cyclic construction; the same arguments always give the same B.
 */
export function createGradientCode(
  kind: GradientCodeKind,
  n: number,
  s: number,
  seed = 0,
  options: GradientCodeOptions = {},
): GradientCode {
  checkInt('n (workers)', n, 1);
  checkInt('s (stragglers tolerated)', s, 0);
  if (s >= n) {
    throw new GradientCodingError(`gradient coding: s (stragglers tolerated) must be < n (workers), got s = ${s}, n = ${n}`);
  }
  if (!Number.isFinite(seed)) throw new GradientCodingError(`gradient coding: seed must be a finite number, got ${seed}`);
  const verify = options.verify ?? binomialAtMost(n, s, VERIFY_WORK / (n * (n - s) ** 2));
  if (kind === 'fractional') {
    if (n % (s + 1) !== 0) {
      throw new GradientCodingError(
        `gradient coding: fractional repetition needs s+1 to divide n, got n = ${n}, s = ${s} (s+1 = ${s + 1}); use 'cyclic' or change n or s`,
      );
    }
    if (options.construction !== undefined) {
      throw new GradientCodingError(`gradient coding: 'construction' applies to cyclic codes only`);
    }
    const B = fractionalMatrix(n, s);
    const direct = (F: readonly number[]): Float64Array => fractionalDecode(F, s);
    const gain = verify ? verifyAllSurvivingSets(B, n, s, direct) : Number.NaN;
    if (typeof gain === 'string') throw new Error(`internal: fractional code fails to decode: ${gain}`);
    return new CodeImpl(kind, undefined, n, s, B, direct, gain);
  }
  if (kind === 'cyclic') {
    const construction = options.construction ?? 'dft';
    if (construction !== 'dft' && construction !== 'random') {
      throw new GradientCodingError(`gradient coding: unknown cyclic construction '${String(construction)}', expected 'dft' or 'random'`);
    }
    const { B, gain } = cyclicMatrix(n, s, seed, construction, verify);
    return new CodeImpl(kind, construction, n, s, B, null, gain);
  }
  throw new GradientCodingError(`gradient coding: unknown kind '${String(kind)}', expected 'fractional' or 'cyclic'`);
}

// ---------------------------------------------------------------------------------------------
// Encoding matrices

function fractionalMatrix(n: number, s: number): Float64Array[] {
  const B: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(n);
    const start = Math.floor(i / (s + 1)) * (s + 1);
    for (let j = start; j <= start + s; j++) row[j] = 1;
    B.push(row);
  }
  return B;
}

/** Decoding for fractional repetition: a = 1 for the lowest-numbered responder of each group. */
function fractionalDecode(sorted: readonly number[], s: number): Float64Array {
  const a = new Float64Array(sorted.length);
  let lastGroup = -1;
  for (let k = 0; k < sorted.length; k++) {
    const g = Math.floor(sorted[k]! / (s + 1));
    if (g !== lastGroup) {
      a[k] = 1;
      lastGroup = g;
    }
  }
  return a;
}

function cyclicSupport(i: number, n: number, s: number): number[] {
  const out: number[] = [];
  for (let t = 0; t <= s; t++) out.push((i + t) % n);
  return out.sort((x, y) => x - y);
}

/** Random H (paper, Algorithm 2): s x n standard normal, each row summing to zero. */
function randomH(n: number, s: number, seed: number, attempt: number): Float64Array {
  const rng = new Rng(seed, 'gradient-code', 'cyclic', n, s, attempt);
  const H = new Float64Array(s * n);
  for (let r = 0; r < s; r++) {
    let sum = 0;
    for (let c = 0; c < n - 1; c++) {
      const v = rng.normal();
      H[r * n + c] = v;
      sum += v;
    }
    H[r * n + n - 1] = -sum;
  }
  return H;
}

/**
 * Fourier H: the real and imaginary parts of z_j^k, z_j = exp(2 pi i j / N), for the s
 * consecutive frequencies k centred on N/2 (a conjugate-closed set, which needs N + s odd),
 * columns j = 0..n-1, each column scaled by w_j. N = n (w = 1, a real BCH code) when n + s is
 * odd, else N = n + 1 and w is the vector closest to 1 with H 1 = 0. Null when a weight vanishes.
 */
function dftH(n: number, s: number): Float64Array | null {
  const N = (n + s) % 2 === 1 ? n : n + 1;
  const G = new Float64Array(s * n);
  const lo = (N - (s - 1)) / 2;
  let r = 0;
  for (let k = lo; k < lo + s; k++) {
    if (2 * k === N) {
      for (let j = 0; j < n; j++) G[r * n + j] = j % 2 === 0 ? 1 : -1;
      r++;
    } else if (2 * k < N) {
      // k and N-k are both in the set: one cosine and one sine row cover the pair.
      for (let j = 0; j < n; j++) {
        const phase = (2 * Math.PI * ((k * j) % N)) / N;
        G[r * n + j] = Math.cos(phase);
        G[(r + 1) * n + j] = Math.sin(phase);
      }
      r += 2;
    }
  }
  if (r !== s) throw new Error(`internal: dft construction built ${r} rows for s = ${s}`);
  if (N === n) return G;
  // w = 1 - G^T (G G^T)^{-1} G 1: the closest vector to 1 with G w = 0.
  const GG = new Float64Array(s * s);
  const G1 = new Float64Array(s);
  for (let a = 0; a < s; a++) {
    for (let j = 0; j < n; j++) G1[a]! += G[a * n + j]!;
    for (let b = 0; b < s; b++) {
      let t = 0;
      for (let j = 0; j < n; j++) t += G[a * n + j]! * G[b * n + j]!;
      GG[a * s + b] = t;
    }
  }
  const y = solveSquare(GG, G1, s);
  if (!y) return null;
  const w = new Float64Array(n).fill(1);
  for (let j = 0; j < n; j++) for (let a = 0; a < s; a++) w[j]! -= G[a * n + j]! * y[a]!;
  for (let j = 0; j < n; j++) if (!(Math.abs(w[j]!) > 1e-6)) return null;
  for (let a = 0; a < s; a++) for (let j = 0; j < n; j++) G[a * n + j]! *= w[j]!;
  return G;
}

/** B from H: row i supported on {i..i+s mod n}, B[i][i] = 1, H B[i]^T = 0. Null if degenerate. */
function matrixFromH(H: Float64Array, n: number, s: number): Float64Array[] | null {
  const B: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const others: number[] = [];
    for (let t = 1; t <= s; t++) others.push((i + t) % n);
    const M = new Float64Array(s * s);
    const rhs = new Float64Array(s);
    for (let r = 0; r < s; r++) {
      for (let c = 0; c < s; c++) M[r * s + c] = H[r * n + others[c]!]!;
      rhs[r] = -H[r * n + i]!;
    }
    const x = solveSquare(M, rhs, s);
    if (!x) return null;
    const row = new Float64Array(n);
    row[i] = 1;
    for (let c = 0; c < s; c++) {
      // The support must be exactly the s+1 held partitions.
      if (!Number.isFinite(x[c]!) || Math.abs(x[c]!) < 1e-9) return null;
      row[others[c]!] = x[c]!;
    }
    B.push(row);
  }
  return B;
}

const MAX_RANDOM_ATTEMPTS = 32;

function cyclicMatrix(
  n: number,
  s: number,
  seed: number,
  construction: CyclicConstruction,
  verify: boolean,
): { B: Float64Array[]; gain: number } {
  if (construction === 'dft') {
    const H = dftH(n, s);
    const B = H && matrixFromH(H, n, s);
    if (!B) throw new GradientCodingError(`gradient coding: the dft construction is degenerate for n = ${n}, s = ${s}; use construction 'random'`);
    const gain = verify ? verifyAllSurvivingSets(B, n, s, null) : Number.NaN;
    if (typeof gain === 'string') {
      throw new GradientCodingError(`gradient coding: the dft construction for n = ${n}, s = ${s} fails: ${gain}; use construction 'random'`);
    }
    return { B, gain };
  }
  let lastProblem = '';
  for (let attempt = 0; attempt < MAX_RANDOM_ATTEMPTS; attempt++) {
    const B = matrixFromH(randomH(n, s, seed, attempt), n, s);
    if (!B) {
      lastProblem = 'a degenerate support system';
      continue;
    }
    const gain = verify ? verifyAllSurvivingSets(B, n, s, null) : Number.NaN;
    if (typeof gain === 'string') {
      lastProblem = gain;
      continue;
    }
    return { B, gain };
  }
  throw new GradientCodingError(
    `gradient coding: could not build a random cyclic code for n = ${n}, s = ${s} in ${MAX_RANDOM_ATTEMPTS} seeded draws (last problem: ${lastProblem})`,
  );
}

/** True when C(n, k) <= limit (computed without overflow). */
function binomialAtMost(n: number, k: number, limit: number): boolean {
  k = Math.min(k, n - k);
  let c = 1;
  for (let i = 1; i <= k; i++) {
    c = (c * (n - k + i)) / i;
    if (c > limit) return false;
  }
  return true;
}

/** Solve B_F^T a = 1 for the ascending responder set F. */
function solveDecoding(B: readonly Float64Array[], n: number, F: readonly number[]): { a: Float64Array; residual: number } {
  const m = F.length;
  // A = B_F^T: n rows (partitions) x m columns (responders).
  const A = new Float64Array(n * m);
  for (let k = 0; k < m; k++) {
    const row = B[F[k]!]!;
    for (let j = 0; j < n; j++) A[j * m + k] = row[j]!;
  }
  const ones = new Float64Array(n).fill(1);
  const { x, residual } = leastSquares(A, ones, n, m);
  return { a: x, residual };
}

function residualOf(B: readonly Float64Array[], n: number, F: readonly number[], a: Float64Array): number {
  let r = 0;
  for (let j = 0; j < n; j++) {
    let s = -1;
    for (let k = 0; k < F.length; k++) s += a[k]! * B[F[k]!]![j]!;
    r = Math.max(r, Math.abs(s));
  }
  return r;
}

function gainOf(B: readonly Float64Array[], n: number, F: readonly number[], a: Float64Array): number {
  let g = 0;
  for (let k = 0; k < F.length; k++) {
    let r2 = 0;
    for (const v of B[F[k]!]!) r2 += v * v;
    g += a[k]! * a[k]! * r2;
  }
  return Math.sqrt(g / n);
}

function decode(
  B: readonly Float64Array[],
  n: number,
  F: readonly number[],
  direct: ((sorted: readonly number[]) => Float64Array) | null,
): { a: Float64Array; residual: number } {
  if (direct) {
    const a = direct(F);
    return { a, residual: residualOf(B, n, F, a) };
  }
  return solveDecoding(B, n, F);
}

/**
 * Decodes every set of exactly n-s survivors; returns the largest gain, or a description of the
 * first set that does not decode.
 */
function verifyAllSurvivingSets(
  B: readonly Float64Array[],
  n: number,
  s: number,
  direct: ((sorted: readonly number[]) => Float64Array) | null,
): number | string {
  const m = n - s;
  const F = Array.from({ length: m }, (_, i) => i);
  let worst = 0;
  for (;;) {
    const { a, residual } = decode(B, n, F, direct);
    if (!(residual <= RESIDUAL_TOL)) return `survivors [${F.join(', ')}] decode with residual ${residual.toExponential(3)}`;
    worst = Math.max(worst, gainOf(B, n, F, a));
    // next combination in lexicographic order
    let i = m - 1;
    while (i >= 0 && F[i] === n - m + i) i--;
    if (i < 0) return worst;
    F[i]!++;
    for (let j = i + 1; j < m; j++) F[j] = F[j - 1]! + 1;
  }
}

// ---------------------------------------------------------------------------------------------

class CodeImpl implements GradientCode {
  readonly minResponders: number;
  private readonly cache = new Map<string, Decoding>();
  private solveCount = 0;

  constructor(
    readonly kind: GradientCodeKind,
    readonly construction: CyclicConstruction | undefined,
    readonly n: number,
    readonly s: number,
    private readonly B: readonly Float64Array[],
    /** Closed-form decoder (fractional); null = least squares. */
    private readonly direct: ((sorted: readonly number[]) => Float64Array) | null,
    readonly maxDecodeGain: number,
  ) {
    this.minResponders = n - s;
  }

  get solves(): number {
    return this.solveCount;
  }

  private checkWorker(worker: number): void {
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.n) {
      throw new GradientCodingError(`gradient coding: worker must be an integer in [0, ${this.n - 1}], got ${worker}`);
    }
  }

  partitionsOf(worker: number): number[] {
    this.checkWorker(worker);
    if (this.kind === 'cyclic') return cyclicSupport(worker, this.n, this.s);
    const start = Math.floor(worker / (this.s + 1)) * (this.s + 1);
    return Array.from({ length: this.s + 1 }, (_, t) => start + t);
  }

  coefficients(worker: number): Float64Array {
    this.checkWorker(worker);
    return Float64Array.from(this.B[worker]!);
  }

  decoding(responders: readonly number[]): Decoding {
    const sorted = [...responders].sort((x, y) => x - y);
    for (const w of sorted) this.checkWorker(w);
    for (let k = 1; k < sorted.length; k++) {
      if (sorted[k] === sorted[k - 1]) throw new GradientCodingError(`gradient coding: worker ${sorted[k]} listed twice among the responders`);
    }
    if (sorted.length < this.minResponders) {
      throw new GradientCodingError(
        `cannot decode: only ${sorted.length} of ${this.n} workers responded, the code tolerates ${this.s} stragglers`,
      );
    }
    const key = sorted.join(',');
    const hit = this.cache.get(key);
    if (hit) {
      // refresh its LRU position
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    this.solveCount++;
    const { a, residual } = decode(this.B, this.n, sorted, this.direct);
    if (!(residual <= RESIDUAL_TOL)) {
      throw new GradientCodingError(
        `cannot decode: responders [${sorted.join(', ')}] of the ${this.kind} code (n = ${this.n}, s = ${this.s}) ` +
          `leave max |B_F^T a - 1| = ${residual.toExponential(3)} > ${RESIDUAL_TOL}: the all-ones vector is not (numerically) ` +
          `in the span of their rows of B; real-valued cyclic codes grow ill-conditioned with n and s ` +
          `(see GradientCode.maxDecodeGain), so prefer fractional repetition ((s+1) | n) or a smaller s`,
      );
    }
    const d: Decoding = { responders: Object.freeze(sorted), a, residual, gain: gainOf(this.B, this.n, sorted, a) };
    this.cache.set(key, d);
    if (this.cache.size > DECODER_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return d;
  }

  decoder(responders: readonly number[]): Float64Array {
    const d = this.decoding(responders);
    const out = new Float64Array(responders.length);
    // d.responders is ascending: binary search each worker's position.
    for (let k = 0; k < responders.length; k++) out[k] = d.a[indexOfSorted(d.responders, responders[k]!)]!;
    return out;
  }
}

function indexOfSorted(sorted: readonly number[], w: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid]!;
    if (v === w) return mid;
    if (v < w) lo = mid + 1;
    else hi = mid - 1;
  }
  throw new Error(`internal: worker ${w} not in decoding`);
}
