import { join } from 'node:path';
import { dtemu, ROOT } from './cli.ts';

/** Run the CLI in this process: argv, exit, stdout and stderr stubbed; one fresh import of the entry module. */
let importCount = 0;
export async function cliInProcess(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const saved = { argv: process.argv, exit: process.exit, err: process.stderr.write, out: process.stdout.write, exitCode: process.exitCode };
  const listeners = { u: process.listeners('uncaughtException'), r: process.listeners('unhandledRejection') };
  let stderr = '';
  let stdout = '';
  let code: number | null = null;
  process.argv = [process.execPath, join(ROOT, 'bin', 'dtemu.js'), ...args];
  process.exitCode = undefined;
  // A real exit ends the process there: the first exit code counts, later output is dropped,
  // and the sentinel unwinds whatever called it.
  const exited = new Error('exit');
  process.exit = ((c?: number) => {
    if (code === null) code = c ?? 0;
    throw exited;
  }) as typeof process.exit;
  process.stderr.write = ((s: string | Uint8Array) => (code === null && (stderr += String(s)), true)) as typeof process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => (code === null && (stdout += String(s)), true)) as typeof process.stdout.write;
  try {
    await import(/* @vite-ignore */ `../../src/cli/main.ts?case=${importCount++}`);
  } catch (e) {
    if (e !== exited) throw e;
  } finally {
    process.argv = saved.argv;
    process.exit = saved.exit;
    process.stderr.write = saved.err;
    process.stdout.write = saved.out;
    for (const l of process.listeners('uncaughtException')) if (!listeners.u.includes(l)) process.off('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!listeners.r.includes(l)) process.off('unhandledRejection', l);
  }
  const result = { code: code ?? (typeof process.exitCode === 'number' ? process.exitCode : 0), stderr, stdout };
  process.exitCode = saved.exitCode;
  return result;
}


/**
 * `dtemu <args>` without a process start (and its tfjs load, ~1 s of CPU) where the CLI's own
 * process adds nothing: `validate`, runs with `transport.kind=inproc`, and (here = true) input
 * refused at load time. Anything else (ws runs: the default transport) starts the CLI's process,
 * which starts its worker processes, as a user's would.
 */
export async function dtemuHere(
  args: string[],
  here = args[0] === 'validate' || args.includes('transport.kind=inproc'),
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return here ? cliInProcess(args) : dtemu(args);
}
