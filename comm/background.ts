import type { Endpoint } from './endpoint.ts';

/**
 * "Send in the background, merge later" (Streaming DiLoCo's overlap). The exchange runs now in
 * wall-clock order like any collective, but its virtual time is its own: the sender's clock is
 * put back to the send time, so the work that follows starts when the sender's compute ended.
 * `arrives` is the virtual time at which the result is in hand; `awaitBackground` waits for it.
 */
export interface BackgroundTransfer {
  sent: number;
  arrives: number;
}

export async function sendInBackground(ep: Endpoint, exchange: () => Promise<void>): Promise<BackgroundTransfer> {
  const sent = ep.now;
  await exchange();
  const arrives = ep.now;
  ep.now = sent;
  return { sent, arrives };
}

/** The sender needs the result of a background transfer now: its clock waits for the arrival. */
export function awaitBackground(ep: Endpoint, t: BackgroundTransfer): void {
  if (t.arrives > ep.now) ep.now = t.arrives;
}
