import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statusCommand } from '../src/cli/status.ts';
import { loadConfigText } from '../src/config/load.ts';
import { runExperiment } from '../src/runtime/coordinator.ts';
import { RunError } from '../src/util/user-error.ts';
import { cliInProcess } from './helpers/cli-inprocess.ts';
import { BIN, json, ROOT, tmp } from './helpers/cli.ts';

// In process (no worker processes): a few seconds of training, and plenty of JSONL.
const LONG = `name: long-inproc
seed: 4
workers: 2
backend: wasm
data: { dataset: blobs, samples: 2000, testSamples: 200, features: 8, classes: 3, batchSize: 16 }
model: { kind: mlp, hidden: [16] }
optimizer: { kind: allreduce-sgd, lr: 0.05 }
transport: { kind: inproc }
train: { steps: 1500, evalEvery: 500 }
`;

function writeFile(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  execFileSync('sh', ['-c', 'cat > "$0"', p], { input: text });
  return p;
}

function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, exit };
}

async function until(cond: () => boolean, what: string, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function jsonlLines(file: string): unknown[] {
  const text = readFileSync(file, 'utf8');
  // Whole lines only: the file is empty or ends with a newline, and every line parses.
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as unknown);
}

describe('output directories', () => {
  it('a second run and a second sweep on a busy --out are refused with exit 2; the first ones finish intact', async () => {
    const t = tmp();
    const file = writeFile(t, 'long.yaml', LONG);
    const sweepFile = join(ROOT, 'test', 'fixtures', 'valid-tiny-sweep.yaml');
    const runDir = join(t, 'run');
    const sweepDir = join(t, 'sweep');
    const first = start(['run', file, '--out', runDir, '--quiet']);
    const firstSweep = start(['sweep', sweepFile, '--out', sweepDir, '--quiet']);
    await until(() => existsSync(join(runDir, '.dtemu.lock')), 'the first run to lock its directory');
    const second = await cliInProcess(['run', file, '--out', runDir, '--quiet']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`^dtemu: --out .*run: .*is in use by dtemu run \\(pid ${first.child.pid} on .*\\); wait for it to finish or choose another directory\\n$`));
    await until(() => existsSync(join(sweepDir, '.dtemu.lock')), 'the first sweep to lock its directory');
    const secondSweep = await cliInProcess(['sweep', sweepFile, '--out', sweepDir, '--quiet']);
    expect(secondSweep.code).toBe(2);
    expect(secondSweep.stderr).toMatch(new RegExp(`^dtemu: --out .*sweep: .*is in use by dtemu sweep \\(pid ${firstSweep.child.pid} on `));

    const r1 = await first.exit;
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(json(join(runDir, 'manifest.json'))['status']).toBe('completed');
    expect(jsonlLines(join(runDir, 'metrics.jsonl')).filter((l) => (l as { kind: string }).kind === 'train')).toHaveLength(1500);
    expect(existsSync(join(runDir, '.dtemu.lock'))).toBe(false);
    const s1 = await firstSweep.exit;
    expect(s1.code).toBe(0);
    const csv = readFileSync(join(sweepDir, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv.slice(1).every((l) => l.includes(',completed,'))).toBe(true);
  }, 180_000);

  it('a SIGKILLed coordinator: dtemu status reports the run dead by pid and the manifest is corrected to failed', async () => {
    const t = tmp();
    const file = writeFile(t, 'long.yaml', LONG);
    const dir = join(t, 'killed');
    const run = start(['run', file, '--out', dir, '--quiet']);
    await until(() => existsSync(join(dir, 'metrics.jsonl')) && readFileSync(join(dir, 'metrics.jsonl'), 'utf8').length > 0, 'the first metrics line');
    run.child.kill('SIGKILL');
    expect((await run.exit).signal).toBe('SIGKILL');
    expect(json(join(dir, 'manifest.json'))['status']).toBe('running');
    jsonlLines(join(dir, 'metrics.jsonl'));

    const out: string[] = [];
    expect(statusCommand([dir], (l) => out.push(l))).toBe(1);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(new RegExp(`killed: dead \\(its coordinator \\(pid ${run.child.pid} on .*\\) is gone: it was killed or crashed before the run finished\\)`));
    const m = json(join(dir, 'manifest.json'));
    expect(m['status']).toBe('failed');
    expect(String(m['error'])).toContain(`pid ${run.child.pid}`);
    // Another command touching it says what it holds; its stale lock does not block anyone.
    const again = await cliInProcess(['run', file, '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/the directory exists and is not empty \(it holds a run: failed, the run its coordinator .* is gone/);
  }, 120_000);

  it('a coordinator that dies of an internal error mid-run leaves status failed with the reason', () => {
    const t = tmp();
    const file = writeFile(t, 'long.yaml', LONG);
    const dir = join(t, 'crashed');
    // A bug in a callback (an uncaught exception) ends the process between two steps.
    const script = `
      import { loadConfig } from './src/config/load.ts';
      import { runExperiment } from './src/runtime/coordinator.ts';
      await runExperiment(loadConfig(${JSON.stringify(file)}), {
        outDir: ${JSON.stringify(dir)},
        onLine: (l) => { if (l.step === 20) setTimeout(() => { throw new Error('a bug'); }); },
      });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 150_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('a bug');
    const m = json(join(dir, 'manifest.json'));
    expect(m['status']).toBe('failed');
    expect(m['error']).toBe('the coordinator exited before the run ended (an internal error; see its output)');
    const train = jsonlLines(join(dir, 'metrics.jsonl'));
    expect(train.length).toBeGreaterThanOrEqual(20);
  }, 180_000);

  it('a disk that fills up mid-run: run fails with the reason, manifest says failed, every JSONL file ends with a whole line; a read-only --out is exit 2', async (ctx) => {
    const mnt = tmp('dtemu-enospc-');
    try {
      // Room for the run directory's first files and the status reserve, not for 1500 steps.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      ctx.skip('cannot mount a tmpfs here (needs root); the disk-full path is untested on this machine');
      return;
    }
    try {
      const dir = join(mnt, 'run');
      let err: unknown = null;
      try {
        await runExperiment(loadConfigText('long.yaml', LONG), { outDir: dir });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RunError);
      expect((err as RunError).exitCode).not.toBe(0);
      expect((err as Error).message).toMatch(/cannot write .*\.jsonl \(no space left on the device\)/);
      const m = json(join(dir, 'manifest.json'));
      expect(m['status']).toBe('failed');
      expect(String(m['error'])).toContain('no space left on the device');
      const train = jsonlLines(join(dir, 'metrics.jsonl'));
      const timeline = jsonlLines(join(dir, 'timeline.jsonl'));
      expect(train.length + timeline.length).toBeGreaterThan(0);
      expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);

      // The same file system read-only: --out there is a user error naming the flag, exit 2.
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      const ro = await cliInProcess(['run', join(ROOT, 'test', 'fixtures', 'valid-tiny.yaml'), '--out', join(mnt, 'ro')]);
      expect(ro.code).toBe(2);
      expect(ro.stderr).toMatch(/^dtemu: --out .*ro: cannot create the directory \(read-only file system\)\n$/);
    } finally {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  }, 120_000);
});
