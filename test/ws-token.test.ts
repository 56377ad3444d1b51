import { describe, expect, it } from 'vitest';
import { InprocRouter } from '../comm/transport/inproc-router.ts';
import { loadConfigText } from '../src/config/load.ts';
import { WsHub } from '../src/runtime/ws-hub.ts';
import { runWorkerProcess } from '../src/runtime/worker-process.ts';

describe('ws hub admission', () => {
  it('refuses a worker without the run token and binds to 127.0.0.1 by default', async () => {
    const lc = loadConfigText('t.yaml', 'data: { dataset: blobs }\nmodel: { kind: mlp }\noptimizer: { kind: allreduce-sgd }\nworkers: 1\n');
    expect(lc.config.transport.host).toBe('127.0.0.1');
    const failures: string[] = [];
    const hub = new WsHub({
      host: lc.config.transport.host,
      port: 0,
      token: 'the-right-token',
      maxPayload: 1 << 20,
      lc,
      rankSets: [[0]],
      heartbeatTimeoutSec: 5,
      local: new InprocRouter(),
      onReport: () => {},
      onFailure: (e) => failures.push(e.message),
    });
    const port = await hub.listen();
    expect(hub.boundAddress).toBe('127.0.0.1');
    const code = await runWorkerProcess(`ws://127.0.0.1:${port}`, 'a-wrong-token');
    expect(code).toBe(2);
    expect(hub.refused).toEqual(['wrong or missing run token']);
    expect(hub.processes).toEqual([]);
    expect(failures).toEqual([]);
    await hub.close();
  });
});
