/**
 * AdamW on flat arrays with torch.optim.AdamW semantics (decoupled weight decay, bias
 * correction): p <- p - lr*wd*p; m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2;
 * p <- p - lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). State is kept per worker.
 */
export class AdamW {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  constructor(
    length: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
    private readonly weightDecay = 0.01,
  ) {
    this.m = new Float32Array(length);
    this.v = new Float32Array(length);
  }

  step(params: Float32Array, grad: Float32Array, lr: number): void {
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    const decay = 1 - lr * this.weightDecay;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i]!;
      const m = b1 * this.m[i]! + (1 - b1) * g;
      const v = b2 * this.v[i]! + (1 - b2) * g * g;
      this.m[i] = m;
      this.v[i] = v;
      params[i] = params[i]! * decay - (lr * (m / c1)) / (Math.sqrt(v / c2) + this.eps);
    }
  }
}
