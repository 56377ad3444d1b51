/**
 * A message between two logical endpoints. `op` identifies the collective call (every rank
 * numbers its collective calls the same way), `step` the step inside it. Virtual times travel
 * with the message so the receiver can advance its clock without knowing the network model.
 */
export interface Message {
  from: number;
  to: number;
  op: number;
  step: number;
  /** Virtual time (s) at which the sender handed the payload to its link. */
  sendTime: number;
  /**
   * Virtual arrival time (s) at the receiver, or NaN when the link is shared and the receiver
   * orders the contending messages itself (parameter-server ingress).
   */
  arrival: number;
  payload: Uint8Array;
}

/** Where an endpoint hands messages it sends: an in-process router or a WebSocket connection. */
export interface MessageSink {
  route(msg: Message): void;
}

/**
 * The network model as the communication layer sees it. comm/ never imports sim/: the runtime
 * injects an implementation (sim/network-model.ts).
 */
export interface LinkTiming {
  /** Arrival time of `bytes` of payload sent at `sendTime`; updates the link's occupancy. */
  transmit(from: number, to: number, bytes: number, sendTime: number): number;
  /** The arrival `transmit` would give, without occupying the link. */
  estimate?(from: number, to: number, bytes: number, sendTime: number): number;
  /** True when several senders contend for the link from->to, so only the receiver may time it. */
  isShared(from: number, to: number): boolean;
  /**
   * Time transfers known together (a master's round of pushes, its replies) sharing their links
   * max-min fairly; `keep` picks, from the arrivals, the transfers that occupy the links after.
   * Arrivals in the given order, or null when they are to be timed one by one (fifo sharing).
   */
  timeTogether?(transfers: readonly { from: number; to: number; bytes: number; sendTime: number }[], keep?: (arrivals: readonly number[]) => readonly boolean[]): number[] | null;
  /**
   * Max-min sharing of the shared link into `to` (the star's server ingress) for a receiver that
   * learns of transfers one at a time (the asynchronous masters); null under fifo or when the
   * link into `to` is not shared.
   */
  ingressQueue?(to: number): SharedIngress | null;
  /**
   * Max-min sharing of the one link out of `from` to every worker (the star's server egress) for
   * a sender that enters its transfers one at a time (the asynchronous masters' replies, keyed by
   * receiver); null under fifo or when `from` has no such link.
   */
  egressQueue?(from: number): SharedIngress | null;
}

/**
 * A shared port of the star's server under max-min (src/sim/shared-port.ts implements it): the
 * ingress, whose transfers are keyed by their sender, or the egress, keyed by their receiver.
 */
export interface SharedIngress {
  /** A transfer of `bytes` with the worker `from` at its far end (its `seq`-th), sent at virtual `sendTime`. */
  add(from: number, seq: number, bytes: number, sendTime: number): void;
  /** The next transfer to complete among those known: its last bit leaves at `end`, it arrives at `arrival`. */
  peek(): { from: number; seq: number; end: number; arrival: number } | null;
  /** Make `peek`'s answer final: the transfer leaves the port. */
  commit(): { from: number; seq: number; end: number; arrival: number } | null;
}
