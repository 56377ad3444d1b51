import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fashionMnistCandidates, findFashionMnist } from '../train/data/fashion-mnist.ts';
import { UserError } from '../util/user-error.ts';

const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com';
const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** The one command that gets the data where apt-get cannot be used here (no apt, no root/sudo). */
export const MANUAL_FETCH_COMMAND =
  `mkdir -p data/fashion-mnist && for f in ${FILES.join(' ')}; do curl -fL -o data/fashion-mnist/$f.gz ${FASHION_MNIST_URL}/$f.gz; done`;

/** An executable on $PATH (found without a shell: the shell itself may be what is missing). */
function onPath(cmd: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** How this machine can install Debian's dataset-fashion-mnist, or why it cannot. */
function aptPlan(): { prefix: string[] } | { impossible: string } {
  if (!onPath('apt-get')) {
    return { impossible: `cannot fetch it here (no apt-get); run: ${MANUAL_FETCH_COMMAND}` };
  }
  if (process.getuid?.() === 0) return { prefix: [] };
  if (onPath('sudo')) return { prefix: ['sudo'] };
  return { impossible: `cannot fetch it here (apt-get needs root, no sudo); run as root: apt-get install -y dataset-fashion-mnist` };
}

/**
 * Fashion-MNIST from Debian's package (apt-get, as root or through sudo). `say` gets one line
 * before anything is installed.
 * Throws a UserError (exit 2) naming exactly what to run when it cannot be done here.
 */
function installFashionMnist(say: (line: string) => void, lead: string): string {
  const plan = aptPlan();
  if ('impossible' in plan) throw new UserError(`${lead}: ${plan.impossible}`);
  say(`${lead}: installing it with ${[...plan.prefix, 'apt-get', 'install', '-y', 'dataset-fashion-mnist'].join(' ')}`);
  // apt's own output is kept back (the one line above says what happens) and shown if it fails;
  // sudo asks for a password on the terminal itself, not on these pipes.
  const run = (args: string[]) => {
    const argv = [...plan.prefix, ...args];
    return spawnSync(argv[0]!, argv.slice(1), { stdio: ['inherit', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  };
  run(['apt-get', 'update', '-qq']);
  const r = run(['apt-get', 'install', '-y', '-qq', 'dataset-fashion-mnist']);
  const dir = findFashionMnist();
  if (r.status === 0 && !dir) {
    throw new UserError(`apt-get installed dataset-fashion-mnist, but Fashion-MNIST is not in ${fashionMnistCandidates().join(', ')} ($DTEMU_SYSTEM_DATA or $DTEMU_DATA pointing elsewhere?)`);
  }
  if (r.status !== 0 || !dir) {
    const why = `${r.stderr ?? ''}`.trim().split('\n').pop() ?? '';
    throw new UserError(`apt-get install dataset-fashion-mnist failed (exit ${r.status ?? r.signal}${why ? `: ${why}` : ''}); run it by hand, or: ${MANUAL_FETCH_COMMAND}`);
  }
  return dir;
}

/** `dtemu data fetch`: Fashion-MNIST from Debian's package when it is missing. */
export function fetchData(): void {
  const found = findFashionMnist();
  if (found) {
    process.stdout.write(`Fashion-MNIST already present in ${found}\n`);
    return;
  }
  const dir = installFashionMnist((l) => process.stdout.write(l + '\n'), 'data fetch');
  process.stdout.write(`Fashion-MNIST installed in ${dir}\n`);
}

/**
 * Before a run that needs Fashion-MNIST (the quickstart on a fresh machine): fetch it as
 * `dtemu data fetch` does, saying so in one line on stderr, or exit 2 naming what to run.
 */
export function ensureFashionMnist(): void {
  if (findFashionMnist()) return;
  installFashionMnist((l) => process.stderr.write(`dtemu: ${l}\n`), 'Fashion-MNIST is missing');
}
