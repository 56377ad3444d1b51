/**
 * Error feedback: what a worker does around a (biased) compressor so that the compression error
 * is not lost but re-sent later. One small class per variant behind `ErrorFeedback`:
 *
 *  - `none`  (NoFeedback):   p = C(g).
 *  - `ef`    (ClassicEF; Seide et al. 2014, Karimireddy et al. 2019, Stich et al. 2018):
 *            p = C(e + g);  e <- e + g - decode(p).
 *            Whatever was not transmitted stays in e, so after T steps
 *            sum_t decode(p_t) + e_T = sum_t g_t (telescoping). Scale g by the learning rate
 *            before `step` for the EF-SGD form p = C(e + lr * g).
 *  - `ef21`  (Ef21Worker + Ef21Receiver; Richtárik, Sokolov, Fatkhullin 2021):
 *            the worker keeps an estimate g_i of its gradient and sends only the compressed
 *            change c = C(grad - g_i); both sides apply it: g_i <- g_i + decode(c) on the worker,
 *            sum <- sum + decode(c) on the receiver, which so keeps sum_i g_i without storing
 *            one vector per worker. g_i starts at 0, so the first message is C(grad).
 *
 * Every class preallocates what it needs at construction; `step` allocates only the payload the
 * compressor returns. Memory updates use `decodeAdd`, which adds in place without a dense temporary.
 */
import type { Compressor, Uniform } from './compressor.ts';

export type FeedbackMode = 'none' | 'ef' | 'ef21';

export interface ErrorFeedback {
  readonly mode: FeedbackMode;
  readonly compressor: Compressor;
  /** Length of the gradients this instance handles. */
  readonly length: number;
  /**
   * The state the variant carries between steps: EF's residual e, EF21's gradient estimate g_i,
   * an empty array for `none`. Live view, not a copy: read it, do not write it.
   */
  readonly memory: Float32Array;
  /** Compress this step's gradient (with the memory) into a wire payload, and update the memory. */
  step(grad: Float32Array, uniform: Uniform): Uint8Array;
  /** Zero the memory. */
  reset(): void;
}

function checkLength(who: string, expected: number, got: number): void {
  if (got !== expected) throw new Error(`${who}: gradient of ${got} elements, expected ${expected}`);
}

/** No error feedback: the compressed gradient itself. */
export class NoFeedback implements ErrorFeedback {
  readonly mode = 'none';
  readonly memory = new Float32Array(0);

  constructor(
    readonly compressor: Compressor,
    readonly length: number,
  ) {}

  step(grad: Float32Array, uniform: Uniform): Uint8Array {
    checkLength('error feedback none', this.length, grad.length);
    return this.compressor.encode(grad, uniform);
  }

  reset(): void {}
}

/** Classic error feedback: p = C(e + g), e <- e + g - decode(p). */
export class ClassicEF implements ErrorFeedback {
  readonly mode = 'ef';
  readonly memory: Float32Array;

  constructor(
    readonly compressor: Compressor,
    readonly length: number,
  ) {
    this.memory = new Float32Array(length);
  }

  step(grad: Float32Array, uniform: Uniform): Uint8Array {
    checkLength('error feedback ef', this.length, grad.length);
    const e = this.memory;
    // e itself holds e + g while it is compressed, then loses what was sent: no second buffer.
    for (let i = 0; i < e.length; i++) e[i] = e[i]! + grad[i]!;
    const p = this.compressor.encode(e, uniform);
    this.compressor.decodeAdd(p, e, -1);
    return p;
  }

  reset(): void {
    this.memory.fill(0);
  }
}

/** EF21 worker side: c = C(grad - g_i), g_i <- g_i + decode(c). */
export class Ef21Worker implements ErrorFeedback {
  readonly mode = 'ef21';
  /** g_i, the worker's running gradient estimate (the receiver's sum includes it). */
  readonly memory: Float32Array;
  private readonly diff: Float32Array;

  constructor(
    readonly compressor: Compressor,
    readonly length: number,
  ) {
    this.memory = new Float32Array(length);
    this.diff = new Float32Array(length);
  }

  step(grad: Float32Array, uniform: Uniform): Uint8Array {
    checkLength('error feedback ef21', this.length, grad.length);
    const g = this.memory;
    const diff = this.diff;
    for (let i = 0; i < g.length; i++) diff[i] = grad[i]! - g[i]!;
    const c = this.compressor.encode(diff, uniform);
    this.compressor.decodeAdd(c, g, 1);
    return c;
  }

  reset(): void {
    this.memory.fill(0);
  }
}

/**
 * EF21 receiver side (server, or every worker after an all-gather): keeps sum_i g_i by adding
 * each worker's decoded change. The EF21 update direction is `average` = sum / n.
 * Decoding needs any compressor of the workers' spec (payloads are self-describing per kind).
 */
export class Ef21Receiver {
  /** sum_i g_i over the workers whose payloads were received. */
  readonly sum: Float32Array;

  constructor(
    readonly compressor: Compressor,
    readonly length: number,
  ) {
    this.sum = new Float32Array(length);
  }

  /** sum += decode(c) for one worker's payload. */
  receive(payload: Uint8Array): void {
    this.compressor.decodeAdd(payload, this.sum, 1);
  }

  /** out = sum / n. */
  average(out: Float32Array, n: number): void {
    checkLength('ef21 receiver', this.length, out.length);
    const inv = 1 / n;
    for (let i = 0; i < out.length; i++) out[i] = this.sum[i]! * inv;
  }

  reset(): void {
    this.sum.fill(0);
  }
}

/** The worker side of a mode, for vectors of `length` elements. */
export function createErrorFeedback(mode: FeedbackMode, compressor: Compressor, length: number): ErrorFeedback {
  if (!Number.isInteger(length) || length < 0) throw new Error(`error feedback: length must be an integer >= 0, got ${length}`);
  switch (mode) {
    case 'none':
      return new NoFeedback(compressor, length);
    case 'ef':
      return new ClassicEF(compressor, length);
    case 'ef21':
      return new Ef21Worker(compressor, length);
    default:
      throw new Error(`error feedback mode must be one of none, ef, ef21, got ${JSON.stringify(mode)}`);
  }
}
