import { MultiBar, type SingleBar } from 'cli-progress';
import type { MetricsLine } from '../metrics/aggregator.ts';

/** A number for humans; NaN/Infinity (a diverged run) arrive as null through JSON. */
export function num(v: number | null | undefined, digits: number): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** Bits as megabytes sent: the total, and the split when a server sends anything back. */
export function sentText(l: { bits: number; uplinkBits?: number; downlinkBits?: number }): string {
  const mb = (b: number) => num(b / 8e6, 1);
  return l.downlinkBits ? `${mb(l.bits)} MB sent (up ${mb(l.uplinkBits ?? 0)}, down ${mb(l.downlinkBits)})` : `${mb(l.bits)} MB sent`;
}

/** One evaluation as one line of text. */
export function evalText(l: MetricsLine): string | null {
  if (l.kind !== 'eval') return null;
  const acc = l.evalAccuracy === null ? '' : `, acc ${num(100 * l.evalAccuracy, 2)}%`;
  return `step ${l.step}: test loss ${num(l.evalLoss, 4)}${acc}, sim ${num(l.simTimeSec, 3)} s, ${sentText(l)}`;
}

/**
 * Training progress. On a terminal: a bar with steps/s and ETA, the evaluation lines printed
 * above it and kept on screen. Otherwise (piped, logged): one line per evaluation on `out`, as
 * it happens. Nothing at all when quiet.
 */
export class Progress {
  private multi: MultiBar | null = null;
  private readonly bar: SingleBar | null = null;
  private readonly started = Date.now();

  constructor(
    total: number,
    private readonly mode: 'tty' | 'lines' | 'quiet',
    private readonly out: (line: string) => void,
  ) {
    if (mode === 'tty') {
      this.multi = new MultiBar({
        format: 'training [{bar}] {value}/{total} steps | {rate} steps/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        stopOnComplete: false,
        etaBuffer: 50,
      });
      this.bar = this.multi.create(total, 0, { rate: '-' });
    }
  }

  line(l: MetricsLine): void {
    if (l.kind === 'train') {
      const sec = (Date.now() - this.started) / 1000;
      this.bar?.update(l.step, { rate: sec > 0 ? (l.step / sec).toFixed(1) : '-' });
      return;
    }
    const text = evalText(l);
    if (text === null || this.mode === 'quiet') return;
    if (this.multi) this.multi.log(text + '\n');
    else this.out(text);
  }

  /** Idempotent. Redraws once first: the bar writes logged lines only when it redraws. */
  stop(): void {
    if (!this.multi) return;
    this.multi.update();
    this.multi.stop();
    this.multi = null;
  }
}
