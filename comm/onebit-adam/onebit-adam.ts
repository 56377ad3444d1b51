/**
 * 1-bit Adam (Tang, Gan, Awan, Rajbhandari, Li, Lian, Liu, Zhang, He, "1-bit Adam:
 * communication efficient large-scale training with Adam's convergence speed", ICML 2021,
 * Algorithm 1), the per-worker and server numerical state.
 *
 * Warm-up (steps 1..freezeStep): plain Adam on the full-precision averaged gradient, with
 * torch.optim.Adam semantics (bias correction by default; the arithmetic is AdamW's with weight
 * decay 0, so the two agree bit for bit):
 *   m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  x <- x - lr (m / c1) / (sqrt(v / c2) + eps).
 * Compression stage (after freezeStep): v is frozen (and with it c2 = 1 - b2^freezeStep); each
 * worker forms its local momentum m_i = b1 m + (1-b1) g_i from its own gradient, sends
 * C(m_i + e_i) with worker error e_i; the server averages the decoded vectors, sends
 * C(avg + e_s) with server error e_s; every worker sets m to that (so the momentum stays
 * identical on all workers) and steps x <- x - lr (m / c1) / (sqrt(v / c2) + eps), c1 = 1 - b1^t
 * continuing. C is the 1-bit compressor of `one-bit.ts`.
 *
 * The caller moves the bytes (all-reduce in warm-up; push/pull of 1-bit payloads after): this
 * file is the arithmetic only, and allocates nothing per step.
 */
import { oneBitCompress } from './one-bit.ts';

export interface OneBitAdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Steps of full-precision Adam before the variance freezes (the paper: ~15-25% of training). */
  freezeStep: number;
  /** torch-style bias correction (default true). DeepSpeed's implementation omits it. */
  biasCorrection?: boolean;
  /**
   * After the freeze, keep the momentum (and the parameter) of elements whose frozen variance is
   * exactly 0 at 0 (default true). Such an element saw no gradient in the whole warm-up (e.g. a
   * weight of an always-black pixel); 1-bit compression still gives it ±scale, which
   * lr * scale / eps turns into steps of ~1e5 x lr. DeepSpeed asks the user for this mask
   * (OnebitAdam's exp_avg_mask, for BERT's unused position embeddings); here it is derived.
   */
  maskZeroVariance?: boolean;
}

export class OneBitAdamWorker {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly freezeStep: number;
  readonly biasCorrection: boolean;
  readonly maskZeroVariance: boolean;
  /** Momentum (shared across workers: identical after every step), variance, worker error. */
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly error: Float32Array;
  /** Steps taken. */
  t = 0;
  private readonly local: Float32Array;
  private readonly z: Float32Array;
  /** The decoded compressed local momentum of the last `compressLocalMomentum` (what is sent). */
  readonly sent: Float32Array;

  constructor(
    readonly d: number,
    o: OneBitAdamOptions,
  ) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.biasCorrection = o.biasCorrection ?? true;
    this.maskZeroVariance = o.maskZeroVariance ?? true;
    if (!(Number.isInteger(o.freezeStep) && o.freezeStep >= 1)) throw new Error(`1-bit Adam: freezeStep must be an integer >= 1, got ${o.freezeStep}`);
    this.freezeStep = o.freezeStep;
    this.m = new Float32Array(d);
    this.v = new Float32Array(d);
    this.error = new Float32Array(d);
    this.local = new Float32Array(d);
    this.z = new Float32Array(d);
    this.sent = new Float32Array(d);
  }

  /** True while the next step is a warm-up (full-precision) step. */
  get warmingUp(): boolean {
    return this.t < this.freezeStep;
  }

  /** A warm-up step with the averaged gradient: Adam exactly. */
  warmupStep(params: Float32Array, avgGrad: Float32Array, lr: number): void {
    if (!this.warmingUp) throw new Error('1-bit Adam: warm-up is over (variance frozen)');
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = this.biasCorrection ? 1 - Math.pow(b1, this.t) : 1;
    const c2 = this.biasCorrection ? 1 - Math.pow(b2, this.t) : 1;
    for (let i = 0; i < this.d; i++) {
      const g = avgGrad[i]!;
      const m = b1 * this.m[i]! + (1 - b1) * g;
      const v = b2 * this.v[i]! + (1 - b2) * g * g;
      this.m[i] = m;
      this.v[i] = v;
      params[i] = params[i]! - (lr * (m / c1)) / (Math.sqrt(v / c2) + this.eps);
    }
  }

  /**
   * Compression stage, worker side: local momentum from the local gradient, then 1-bit with
   * worker error feedback. Returns the float32 scale; `sent` holds the decoded vector
   * (encode it with `encodeOneBit(sent, scale)`).
   */
  compressLocalMomentum(localGrad: Float32Array): number {
    if (this.warmingUp) throw new Error('1-bit Adam: still warming up');
    const b1 = this.beta1;
    for (let i = 0; i < this.d; i++) this.local[i] = b1 * this.m[i]! + (1 - b1) * localGrad[i]!;
    return oneBitCompress(this.local, this.error, this.sent, this.z);
  }

  /** Compression stage, after the server's reply: m <- the averaged compressed momentum; step. */
  applyMomentum(params: Float32Array, momentum: Float32Array, lr: number): void {
    if (this.warmingUp) throw new Error('1-bit Adam: still warming up');
    this.t++;
    const c1 = this.biasCorrection ? 1 - Math.pow(this.beta1, this.t) : 1;
    const c2 = this.biasCorrection ? 1 - Math.pow(this.beta2, this.freezeStep) : 1;
    const mask = this.maskZeroVariance;
    for (let i = 0; i < this.d; i++) {
      const m = mask && this.v[i] === 0 ? 0 : momentum[i]!;
      this.m[i] = m;
      params[i] = params[i]! - (lr * (m / c1)) / (Math.sqrt(this.v[i]! / c2) + this.eps);
    }
  }
}

/** The server's side: the average of the workers' decoded vectors, re-compressed with server error feedback. */
export class OneBitAdamServer {
  readonly error: Float32Array;
  /** The decoded vector of the last `compress` (what is broadcast). */
  readonly sent: Float32Array;
  private readonly z: Float32Array;

  constructor(readonly d: number) {
    this.error = new Float32Array(d);
    this.sent = new Float32Array(d);
    this.z = new Float32Array(d);
  }

  /** avg: (1/n) sum of the workers' decoded vectors. Returns the float32 scale; `sent` holds C(avg + e_s). */
  compress(avg: Float32Array): number {
    return oneBitCompress(avg, this.error, this.sent, this.z);
  }
}
