import { Rng } from '../../util/rng.ts';

/**
 * Mini-batches from one worker's shard: each epoch is a fresh seeded permutation of the shard,
 * drawn from a stream keyed by (seed, worker, epoch) so resuming or repacking changes nothing.
 */
export class BatchSampler {
  private perm: Int32Array;
  private pos = 0;
  private epoch = 0;
  readonly batch: Int32Array;

  constructor(
    private readonly shard: Int32Array,
    readonly batchSize: number,
    private readonly seed: number,
    private readonly worker: number,
  ) {
    if (shard.length === 0) throw new Error(`worker ${worker} has an empty data shard`);
    this.perm = this.permutation();
    this.batch = new Int32Array(batchSize);
  }

  private permutation(): Int32Array {
    return new Rng(this.seed, 'batches', this.worker, this.epoch).shuffle(Int32Array.from(this.shard));
  }

  /** Fill `this.batch` with the next batchSize indices (wrapping into the next epoch). */
  next(): Int32Array {
    for (let b = 0; b < this.batchSize; b++) {
      if (this.pos >= this.perm.length) {
        this.epoch++;
        this.perm = this.permutation();
        this.pos = 0;
      }
      this.batch[b] = this.perm[this.pos++]!;
    }
    return this.batch;
  }
}
