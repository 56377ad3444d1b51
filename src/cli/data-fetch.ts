import { spawnSync } from 'node:child_process';
import { findFashionMnist } from '../train/data/fashion-mnist.ts';
import { UserError } from '../util/user-error.ts';

/** `dtemu data fetch`: Fashion-MNIST from Debian's package when it is missing. */
export function fetchData(): void {
  const found = findFashionMnist();
  if (found) {
    process.stdout.write(`Fashion-MNIST already present in ${found}\n`);
    return;
  }
  const isRoot = process.getuid?.() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!hasApt) {
    throw new UserError(
      'data fetch: no apt-get here; download the four Fashion-MNIST *-ubyte.gz files into ./data/fashion-mnist (or set $DTEMU_DATA)',
    );
  }
  const prefix = isRoot ? [] : ['sudo'];
  process.stdout.write(`installing Debian package dataset-fashion-mnist${isRoot ? '' : ' (with sudo)'}\n`);
  const run = (args: string[]) => spawnSync(prefix.length ? 'sudo' : args[0]!, prefix.length ? args : args.slice(1), { stdio: 'inherit' });
  run(['apt-get', 'update', '-qq']);
  const r = run(['apt-get', 'install', '-y', '-qq', 'dataset-fashion-mnist']);
  if (r.status !== 0 || !findFashionMnist()) {
    throw new UserError('data fetch: apt-get install dataset-fashion-mnist failed; install it by hand or put the IDX .gz files in ./data/fashion-mnist');
  }
  process.stdout.write(`Fashion-MNIST installed in ${findFashionMnist()}\n`);
}
