import { psServeRound } from '../../comm/collectives/parameter-server.ts';
import { oneBitServeRound } from '../../comm/onebit-adam/compressed-allreduce.ts';
import { OneBitAdamServer } from '../../comm/onebit-adam/onebit-adam.ts';
import type { Endpoint } from '../../comm/endpoint.ts';

/**
 * 1-bit Adam's parameter server (star): dense summing rounds during the warm-up, then one 1-bit
 * round per step with the server's error feedback, until the run ends.
 */
export async function runOneBitAdamServer(server: Endpoint, d: number, freezeStep: number, steps: number): Promise<void> {
  const state = new OneBitAdamServer(d);
  for (let step = 1; step <= steps; step++) {
    const open = step <= freezeStep ? await psServeRound(server) : await oneBitServeRound(server, state);
    if (!open) return;
  }
}
