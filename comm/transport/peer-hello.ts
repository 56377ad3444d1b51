/**
 * A peer's first frame on a direct worker-to-worker link: `{ t: 'peer-hello', token, process }`
 * (process: the sender's index, for messages). It belongs to the peer mesh's own handshake, so
 * it lives with the transport (comm/ imports nothing outside comm/); the coordinator's control
 * protocol is parsed in src/runtime/protocol-parse.ts. Hostile until parsed: bounded length,
 * JSON object, exact types.
 */
export type PeerHello = { t: 'peer-hello'; token: string; process?: number };

export function parsePeerHello(text: string): { ok: true; msg: PeerHello } | { ok: false; reason: string } {
  if (text.length > 1024) return { ok: false, reason: 'hello too long' };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'control message is not JSON' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || typeof (v as Record<string, unknown>)['t'] !== 'string') {
    return { ok: false, reason: 'control message is not an object with a type' };
  }
  const m = v as Record<string, unknown>;
  const token = m['token'];
  const proc = m['process'];
  if (m['t'] !== 'peer-hello' || typeof token !== 'string' || token.length > 256) return { ok: false, reason: 'expected a peer hello' };
  if (proc !== undefined && !(typeof proc === 'number' && Number.isInteger(proc) && proc >= 0)) return { ok: false, reason: 'expected a peer hello' };
  return { ok: true, msg: m as PeerHello };
}
