import type { Endpoint } from './endpoint.ts';

/**
 * "Send in the background, merge later" (Streaming DiLoCo's overlap). The exchange runs now in
 * wall-clock order like any collective, but its virtual time is its own: the sender's clock is
 * put back to the send time, so the work that follows starts when the sender's compute ended.
 * `arrives` is the virtual time at which the result is in hand; `awaitBackground` waits for it.
 *
 * A collective timed as a unit (max-min flow simulation) inside the exchange defers its finish
 * time (`Endpoint.deferClock`): its bytes move now, but `arrives` is decided only when first read,
 * so that it shares the links max-min with every collective entered before its result is needed
 * (src/sim/unit-scheduler.ts). Read `arrives` when the result is needed (`awaitBackground`), not
 * at the send: reading it at the send decides it then, against only the collectives entered so far.
 * Every rank must first read it at the same point of the program (src/sim/unit-scheduler.ts
 * refuses otherwise: the finish would depend on which ranks share a process).
 */
export interface BackgroundTransfer {
  readonly sent: number;
  readonly arrives: number;
  /** Its arrival was left to be decided when first read (a unit-timed collective in the exchange). */
  readonly deferred: boolean;
}

class Transfer implements BackgroundTransfer {
  private decide: (() => number) | null;
  private arrival: number;
  readonly deferred: boolean;

  constructor(
    readonly sent: number,
    /** The exchange's end as far as it is decided (its message-timed parts). */
    settled: number,
    later: (() => number) | null,
  ) {
    this.arrival = settled;
    this.decide = later;
    this.deferred = later !== null;
  }

  get arrives(): number {
    if (this.decide !== null) {
      const t = this.decide();
      this.decide = null;
      if (t > this.arrival) this.arrival = t;
    }
    return this.arrival;
  }
}

export async function sendInBackground(ep: Endpoint, exchange: () => Promise<void>): Promise<BackgroundTransfer> {
  const sent = ep.now;
  ep.background++;
  try {
    await exchange();
  } finally {
    ep.background--;
  }
  const deferred = ep.takeDeferredClock();
  const settled = ep.now;
  ep.now = sent;
  return new Transfer(sent, settled, deferred);
}

/**
 * The step that launched a transfer reports its in-flight interval (timeline, Gantt) if its
 * arrival is known then; a deferred one is reported by the step that awaits it (`awaitBackground`).
 */
export function reportLaunched(t: BackgroundTransfer, background: [number, number][]): void {
  if (!t.deferred) background.push([t.sent, t.arrives]);
}

/**
 * The sender needs the result of a background transfer now: its clock waits for the arrival. A
 * deferred transfer's interval, decided now, goes to `background` (the awaiting step's report).
 */
export function awaitBackground(ep: Endpoint, t: BackgroundTransfer, background?: [number, number][]): void {
  if (t.arrives > ep.now) ep.now = t.arrives;
  if (background && t.deferred) background.push([t.sent, t.arrives]);
}
