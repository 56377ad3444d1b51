import { tf, type TF } from './tf.ts';
import { fillBatch, type Dataset, type Split } from './data/dataset.ts';
import type { ModelDef } from './models.ts';

/**
 * The gradient oracle of one process: tfjs variables for the model, batch buffers, and the two
 * operations the algorithms need, on flat Float32Arrays. Several logical workers in one process
 * share it; each passes its own parameters.
 */
export class Trainer {
  private readonly vars: TF.Variable[];
  private readonly xBuf: Float32Array;
  private readonly yBuf: Float32Array | Int32Array;

  constructor(
    readonly model: ModelDef,
    readonly data: Dataset,
    readonly batchSize: number,
  ) {
    // Unnamed: tfjs makes names unique, so several trainers can live in one process.
    this.vars = model.variables ?? model.params.map((p) => tf.variable(tf.zeros(p.shape), true));
    this.xBuf = new Float32Array(batchSize * data.inputSize);
    this.yBuf = model.regression ? new Float32Array(batchSize) : new Int32Array(batchSize);
  }

  private load(params: Float32Array): void {
    for (let i = 0; i < this.vars.length; i++) {
      const p = this.model.params[i]!;
      const t = tf.tensor(params.subarray(p.offset, p.offset + p.size), p.shape, 'float32');
      this.vars[i]!.assign(t);
      t.dispose();
    }
  }

  private lossOf(logits: TF.Tensor2D, y: TF.Tensor): TF.Scalar {
    if (this.model.regression) return tf.mean(tf.square(tf.sub(tf.reshape(logits, [-1]), y))) as TF.Scalar;
    const onehot = tf.oneHot(y as TF.Tensor1D, this.model.outputs);
    return tf.losses.softmaxCrossEntropy(onehot, logits) as TF.Scalar;
  }

  /** Wall and CPU seconds of the last lossAndGrad call. */
  readonly timing = { wallSec: 0, cpuSec: 0 };

  /** Mean loss over the batch and its gradient written into `grad` (length model.size). */
  lossAndGrad(params: Float32Array, indices: Int32Array, grad: Float32Array): number {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const loss = this.computeLossAndGrad(params, indices, grad);
    const c1 = process.cpuUsage(c0);
    this.timing.cpuSec = (c1.user + c1.system) / 1e6;
    this.timing.wallSec = (performance.now() - t0) / 1000;
    return loss;
  }

  private computeLossAndGrad(params: Float32Array, indices: Int32Array, grad: Float32Array): number {
    this.load(params);
    const n = indices.length;
    fillBatch(this.data, this.data.train, indices, n, this.xBuf, this.yBuf);
    const x = tf.tensor2d(this.xBuf.subarray(0, n * this.data.inputSize), [n, this.data.inputSize]);
    const y = this.model.regression ? tf.tensor1d(this.yBuf.subarray(0, n) as Float32Array) : tf.tensor1d(this.yBuf.subarray(0, n) as Int32Array, 'int32');
    const { value, grads } = tf.variableGrads(() => this.lossOf(this.model.forward(this.vars, x), y), this.vars);
    const loss = value.dataSync()[0]!;
    for (let i = 0; i < this.vars.length; i++) {
      const p = this.model.params[i]!;
      const g = grads[this.vars[i]!.name]!;
      grad.set(g.dataSync() as Float32Array, p.offset);
    }
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    x.dispose();
    y.dispose();
    return loss;
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
  }

  /** Loss and accuracy (NaN for regression) on the first `limit` samples of a split. */
  async evaluate(params: Float32Array, split: Split = this.data.test, limit = split.n, chunk = 1000): Promise<{ loss: number; accuracy: number }> {
    this.load(params);
    const n = Math.min(limit, split.n);
    const d = this.data.inputSize;
    const xb = new Float32Array(chunk * d);
    const yb = this.model.regression ? new Float32Array(chunk) : new Int32Array(chunk);
    const idx = new Int32Array(chunk);
    let lossSum = 0;
    let correct = 0;
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      for (let i = 0; i < m; i++) idx[i] = start + i;
      fillBatch(this.data, split, idx, m, xb, yb);
      const res = tf.tidy(() => {
        const x = tf.tensor2d(xb.subarray(0, m * d), [m, d]);
        const out = this.model.forward(this.vars, x);
        if (this.model.regression) {
          const y = tf.tensor1d(yb.subarray(0, m) as Float32Array);
          return [tf.sum(tf.square(tf.sub(tf.reshape(out, [-1]), y)))];
        }
        const y = tf.tensor1d(yb.subarray(0, m) as Int32Array, 'int32');
        const l = tf.losses.softmaxCrossEntropy(tf.oneHot(y, this.model.outputs), out, undefined, undefined, tf.Reduction.SUM);
        const c = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), y), 'float32'));
        return [l, c];
      });
      lossSum += res[0]!.dataSync()[0]!;
      if (res[1]) correct += res[1].dataSync()[0]!;
      for (const t of res) t.dispose();
      // A long evaluation must not starve heartbeats and signals of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      // Parameters may have been reloaded by another worker sharing this trainer meanwhile.
      this.load(params);
    }
    return { loss: lossSum / n, accuracy: this.model.regression ? Number.NaN : correct / n };
  }
}
