/**
 * PowerSGD (Vogels, Karimireddy, Jaggi 2019): rank-r gradient compression by one step of
 * subspace (power) iteration per training step, warm-started across steps, with error feedback.
 * This is the numerical core: it averages a flat gradient across workers through an injected
 * summing all-reduce and knows nothing of models, optimizers or transports.
 *
 * Per step, for every layer whose matrix view M (shape[0] x prod(rest)) compresses strictly more
 * than `minCompressionRate`-fold at rank r (n m / ((n + m) r) > minCompressionRate, the test
 * PyTorch's powerSGD_hook applies: a matrix exactly at the threshold is sent dense):
 *
 *     M <- M + E                      (error feedback; E starts at 0)
 *     P <- M Q                        (Q: m x r, warm-started; first drawn from the seeded stream)
 *     P <- allReduce(P) / workers     (one buffer for all layers' P, plus the dense layers)
 *     P <- orthonormalise(P)          (modified Gram-Schmidt, see linalg.ts for the zero guard)
 *     Q <- allReduce(M^T P) / workers (one buffer for all layers' Q)
 *     out <- P Q^T;  E <- M - P Q^T   (M local, P Q^T identical on every worker)
 *
 * 1-D tensors and matrices compressing no more than `minCompressionRate` are averaged exactly and
 * carry no error feedback (as in PyTorch's powerSGD_hook; there their residual local - average
 * sums to zero over workers, so feeding it back would not change the average anyway).
 *
 * Because every operation on the workers' matrices is linear before the all-reduces and the
 * rest runs on all-reduced (identical) data, the result on n workers equals the single-worker
 * result on the mean of their matrices, with or without error feedback (the mean of the workers'
 * residuals evolves exactly like the single worker's residual).
 *
 * Communication per compressed step: ONE all-reduce of [dense layers | P of every compressed
 * layer] and ONE of [Q of every compressed layer]; empty buffers are skipped (the same on every
 * worker, since all derive them from the same layer list). The first `startIter` steps all-reduce
 * the whole gradient once (vanilla averaging, no error feedback, Q not drawn yet).
 */
import { mulMQ, mulMtP, mulPQt, orthonormalizeColumns } from './linalg.ts';
import { NormalStream, streamSeed } from './prng.ts';

/** One tensor of the model inside the flat gradient vector. */
export interface PowerSgdLayer {
  offset: number;
  size: number;
  /**
   * Tensor shape; the matrix compressed is (shape[0], prod(shape[1..])) over the tensor's
   * row-major memory. Only the view matters, so a caller may pass any shape with the same product
   * to choose the matricisation: e.g. a tfjs conv kernel [kh, kw, in, out] is better passed as
   * [kh*kw*in, out] (PyTorch's (out, in*kh*kw) transposed) than viewed as kh x (kw*in*out).
   */
  shape: readonly number[];
}

export interface PowerSgdOptions {
  /** Target rank r (clamped per layer to min(r, rows, cols), as PyTorch does). */
  rank: number;
  /** Compress a matrix only if rows*cols / ((rows+cols)*rank) >= this. Default 2. */
  minCompressionRate?: number;
  /** Error feedback on the compressed layers. Default true. */
  errorFeedback?: boolean;
  /** Start each step's power iteration from the previous step's Q. Default true. */
  warmStart?: boolean;
  /** Steps averaged densely (no compression, no error feedback) before PowerSGD starts. Default 0. */
  startIter?: number;
  /** Seed of the Q draws (every worker must pass the same one). Any safe integer. */
  seed: number;
}

/** Sums `data` in place across all workers (e.g. ring all-reduce over an Endpoint). */
export type SumAllReduce = (data: Float32Array) => Promise<void>;

/** How one layer is handled (fixed at construction). */
export interface PowerSgdLayerPlan {
  index: number;
  offset: number;
  size: number;
  shape: readonly number[];
  /** Matrix view: rows = shape[0], cols = size / rows; 1-D and scalar tensors: rows = size, cols = 1. */
  rows: number;
  cols: number;
  compressed: boolean;
  /** Rank used (min(rank, rows, cols)) if compressed, else 0. */
  rank: number;
  /** rows*cols / ((rows+cols)*rank) if compressed; 1 for a dense layer (it sends every element). */
  compressionRate: number;
}

export interface PowerSgdCompression {
  /** Total elements / elements all-reduced per compressed step (dense layers count fully). */
  overall: number;
  /** Per layer, in layer order: its compression rate (1 for dense layers). */
  perLayer: number[];
}

interface CompressedLayer {
  plan: PowerSgdLayerPlan;
  n: number;
  m: number;
  r: number;
  /** Offset of this layer's Pt (r x n) in the P buffer. */
  pOff: number;
  /** Offset of this layer's Qt (r x m) in the Q buffer. */
  qOff: number;
  /** Offset of this layer's residual (n x m) in the error memory, if error feedback is on. */
  eOff: number;
}

interface DenseLayer {
  offset: number;
  size: number;
  /** Offset in the first all-reduce buffer. */
  bufOff: number;
}

export class PowerSgd {
  /** Length of the flat gradient vector. */
  readonly length: number;
  readonly plans: readonly PowerSgdLayerPlan[];
  readonly rank: number;
  readonly minCompressionRate: number;
  readonly errorFeedback: boolean;
  readonly warmStart: boolean;
  readonly startIter: number;
  readonly seed: number;

  private readonly comp: CompressedLayer[] = [];
  private readonly dense: DenseLayer[] = [];
  /** [dense layers | Pt of every compressed layer]: the first all-reduce. */
  private readonly pBuf: Float32Array;
  /** Offset of the first Pt in pBuf (= number of dense elements). */
  private readonly pBase: number;
  /** Qt of every compressed layer: the second all-reduce, and the warm start of the next step. */
  private readonly qBuf: Float32Array;
  /** Error memory of the compressed layers, concatenated (empty without error feedback). */
  private readonly memory: Float32Array;
  private readonly acc: Float64Array;
  private readonly orthScratch: Float64Array;
  private readonly rowScratch: Float64Array;
  private readonly normals = new NormalStream();
  private iter = 0;
  private draws = 0;
  private qReady = false;
  private busy = false;

  constructor(
    layers: readonly PowerSgdLayer[],
    options: PowerSgdOptions,
    private readonly allReduce: SumAllReduce,
    readonly workers: number,
  ) {
    const rank = options.rank;
    if (!Number.isInteger(rank) || rank < 1) throw new Error(`powersgd: rank must be an integer >= 1, got ${rank}`);
    const minRate = options.minCompressionRate ?? 2;
    if (!Number.isFinite(minRate) || minRate < 0) throw new Error(`powersgd: minCompressionRate must be a finite number >= 0, got ${minRate}`);
    const startIter = options.startIter ?? 0;
    if (!Number.isInteger(startIter) || startIter < 0) throw new Error(`powersgd: startIter must be an integer >= 0, got ${startIter}`);
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`powersgd: workers must be an integer >= 1, got ${workers}`);
    streamSeed(options.seed); // validates the seed
    this.rank = rank;
    this.minCompressionRate = minRate;
    this.errorFeedback = options.errorFeedback ?? true;
    this.warmStart = options.warmStart ?? true;
    this.startIter = startIter;
    this.seed = options.seed;

    const plans: PowerSgdLayerPlan[] = [];
    let expectOffset = 0;
    let denseLen = 0;
    let pLen = 0;
    let qLen = 0;
    let eLen = 0;
    let maxRM = 0;
    let maxRN = 0;
    let maxM = 0;
    layers.forEach((layer, index) => {
      const { offset, size, shape } = layer;
      if (!Number.isInteger(size) || size < 0) throw new Error(`powersgd: layer ${index}: size must be an integer >= 0, got ${size}`);
      if (offset !== expectOffset) throw new Error(`powersgd: layer ${index}: offset ${offset}, expected ${expectOffset} (layers must tile the vector in order)`);
      let prod = 1;
      for (const d of shape) {
        if (!Number.isInteger(d) || d < 0) throw new Error(`powersgd: layer ${index}: bad shape [${shape.join(', ')}]`);
        prod *= d;
      }
      if (prod !== size) throw new Error(`powersgd: layer ${index}: shape [${shape.join(', ')}] has ${prod} elements, size is ${size}`);
      expectOffset += size;
      const matrix = shape.length >= 2 && size > 0;
      const rows = matrix ? shape[0]! : size;
      const cols = matrix ? size / rows : 1;
      const r = Math.min(rank, rows, cols);
      const rate = matrix ? (rows * cols) / ((rows + cols) * r) : 1;
      // Strictly greater, as PyTorch's hook: at the threshold compression saves nothing it values.
      const compressed = matrix && rate > minRate;
      const plan: PowerSgdLayerPlan = {
        index,
        offset,
        size,
        shape: [...shape],
        rows,
        cols,
        compressed,
        rank: compressed ? r : 0,
        compressionRate: compressed ? rate : 1,
      };
      plans.push(plan);
      if (compressed) {
        this.comp.push({ plan, n: rows, m: cols, r, pOff: pLen, qOff: qLen, eOff: eLen });
        pLen += r * rows;
        qLen += r * cols;
        if (this.errorFeedback) eLen += size;
        maxRM = Math.max(maxRM, r * cols);
        maxRN = Math.max(maxRN, r * rows);
        maxM = Math.max(maxM, cols);
      } else {
        this.dense.push({ offset, size, bufOff: denseLen });
        denseLen += size;
      }
    });
    this.length = expectOffset;
    this.plans = plans;
    this.pBase = denseLen;
    for (const c of this.comp) c.pOff += denseLen;
    this.pBuf = new Float32Array(denseLen + pLen);
    this.qBuf = new Float32Array(qLen);
    this.memory = new Float32Array(eLen);
    this.acc = new Float64Array(maxRM);
    this.orthScratch = new Float64Array(maxRN);
    this.rowScratch = new Float64Array(maxM);
  }

  /** Steps taken so far. */
  get iteration(): number {
    return this.iter;
  }

  /** Indices of the layers compressed by PowerSGD (after `startIter`). */
  compressedLayers(): number[] {
    return this.comp.map((c) => c.plan.index);
  }

  /** Elements all-reduced per step once compression runs (dense elements + sum r (n + m)). */
  elementsPerStep(): number {
    return this.pBuf.length + this.qBuf.length;
  }

  compressionRatio(): PowerSgdCompression {
    const sent = this.elementsPerStep();
    return { overall: sent === 0 ? 1 : this.length / sent, perLayer: this.plans.map((p) => p.compressionRate) };
  }

  /**
   * The error-feedback residual as a flat vector (0 on dense layers and without error feedback).
   * Writes into `out` if given.
   */
  residual(out: Float32Array = new Float32Array(this.length)): Float32Array {
    if (out.length !== this.length) throw new Error(`powersgd: residual of ${this.length} elements, got a buffer of ${out.length}`);
    out.fill(0);
    if (this.errorFeedback) for (const c of this.comp) out.set(this.memory.subarray(c.eOff, c.eOff + c.plan.size), c.plan.offset);
    return out;
  }

  /**
   * One step: `out` <- the workers' averaged, PowerSGD-decompressed gradient (identical on all
   * workers). Every worker must call it once per step, in the same order relative to its other
   * collectives. `out` may be `grad` itself; otherwise they must not overlap. `grad` is not
   * modified (unless it is `out`). Steps must not overlap (await each one). If an all-reduce
   * rejects, the rejection propagates and the instance's state is undefined: discard it.
   */
  async step(grad: Float32Array, out: Float32Array): Promise<void> {
    if (grad.length !== this.length || out.length !== this.length) {
      throw new Error(`powersgd: expected gradient and output of ${this.length} elements, got ${grad.length} and ${out.length}`);
    }
    if (this.busy) throw new Error('powersgd: step called while the previous step is still running');
    this.busy = true;
    try {
      await this.runStep(grad, out);
    } finally {
      this.busy = false;
    }
  }

  private async runStep(grad: Float32Array, out: Float32Array): Promise<void> {
    const t = this.iter++;
    const inv = 1 / this.workers;
    if (t < this.startIter) {
      if (out !== grad) out.set(grad);
      if (out.length > 0) await this.allReduce(out);
      for (let i = 0; i < out.length; i++) out[i]! *= inv;
      return;
    }
    if (!this.qReady || !this.warmStart) this.drawQ();

    const pBuf = this.pBuf;
    const qBuf = this.qBuf;
    for (const d of this.dense) for (let i = 0; i < d.size; i++) pBuf[d.bufOff + i] = grad[d.offset + i]!;

    const ef = this.errorFeedback;
    const mem = this.memory;
    for (const c of this.comp) {
      let src = grad;
      let off = c.plan.offset;
      if (ef) {
        // The residual buffer becomes M = E + g for the rest of the step.
        for (let i = 0; i < c.plan.size; i++) mem[c.eOff + i]! += grad[off + i]!;
        src = mem;
        off = c.eOff;
      }
      mulMQ(src, off, c.n, c.m, qBuf, c.qOff, c.r, pBuf, c.pOff);
    }

    if (pBuf.length > 0) await this.allReduce(pBuf);
    for (let i = 0; i < pBuf.length; i++) pBuf[i]! *= inv;
    for (const d of this.dense) for (let i = 0; i < d.size; i++) out[d.offset + i] = pBuf[d.bufOff + i]!;
    if (this.comp.length === 0) return;

    for (const c of this.comp) {
      orthonormalizeColumns(pBuf, c.pOff, c.n, c.r, this.orthScratch);
      const src = ef ? mem : grad;
      const off = ef ? c.eOff : c.plan.offset;
      mulMtP(src, off, c.n, c.m, pBuf, c.pOff, c.r, qBuf, c.qOff, this.acc);
    }

    await this.allReduce(qBuf);
    for (let i = 0; i < qBuf.length; i++) qBuf[i]! *= inv;

    for (const c of this.comp) {
      mulPQt(pBuf, c.pOff, qBuf, c.qOff, c.n, c.m, c.r, out, c.plan.offset, ef ? mem : null, c.eOff, this.rowScratch);
    }
  }

  /** Q of every compressed layer from the seeded stream: draw d, layer i uses stream (seed, d, i). */
  private drawQ(): void {
    const d = this.draws++;
    for (const c of this.comp) {
      this.normals.reseed(streamSeed(this.seed, d, c.plan.index));
      this.normals.fillNormal(this.qBuf, c.qOff, c.r * c.m);
    }
    this.qReady = true;
  }
}
