import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dtemu, ROOT, tmp } from './helpers/cli.ts';
import { cliInProcess } from './helpers/cli-inprocess.ts';

/**
 * The malformed-input corpus: every case is a user mistake that must end with exit code 2 and
 * exactly one line on stderr ("dtemu: ..."), located (file:line:col and key, or the flag), with
 * no stack trace, nothing written and bounded memory. The YAML cases live in
 * test/fixtures/malformed/ (header: `# case:` the command, `# expect:` a fragment of the message,
 * `# at:` the line the message must name); flag and special-file cases are below. They run in
 * this process through the CLI's entry module (one import per case), a few also as real processes.
 */
const DIR = join(ROOT, 'test', 'fixtures', 'malformed');
const VALID = join(ROOT, 'test', 'fixtures', 'valid-tiny.yaml');

interface Case {
  name: string;
  args: (t: string) => string[];
  expect: string | RegExp;
  /** Set up the case's scratch directory (files it must find there). */
  setup?: (t: string) => void;
}

const split = (cmd: string, file: string, t: string) => cmd.replaceAll('{file}', file).replaceAll('{tmp}', t).split(' ');

const fileCases: Case[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => {
    const text = readFileSync(join(DIR, f), 'utf8');
    const header = (k: string) => new RegExp(`^# ${k}: ?(.*)$`, 'm').exec(text)?.[1] ?? '';
    const at = header('at');
    const path = join(DIR, f);
    const fragment = header('expect');
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return {
      name: f,
      args: (t: string) => split(header('case'), path, t),
      expect: at ? new RegExp(`${esc(f)}:${at}:\\d+: .*${esc(fragment)}`) : fragment,
    };
  });

const live = JSON.stringify({ pid: process.pid, host: hostname(), command: 'run', since: 'now' });
const flagCases: Case[] = [
  { name: '--seed abc', args: () => ['run', VALID, '--seed', 'abc'], expect: /^dtemu: --seed: expected an integer >= 0, found "abc"$/ },
  { name: '--seed -1', args: () => ['run', VALID, '--seed', '-1'], expect: /^dtemu: --seed: expected an integer from 0/ },
  { name: '--seed 1.5', args: () => ['run', VALID, '--seed', '1.5'], expect: /^dtemu: --seed: / },
  { name: '--set __proto__.x=1', args: () => ['run', VALID, '--set', '__proto__.x=1'], expect: /^dtemu: --set __proto__\.x: expected a config key/ },
  { name: '--set constructor.prototype.x=1', args: () => ['validate', VALID, '--set', 'constructor.prototype.x=1'], expect: /^dtemu: --set constructor\.prototype\.x: / },
  { name: '--set a..b=1', args: () => ['run', VALID, '--set', 'a..b=1'], expect: /^dtemu: --set a\.\.b: expected a dotted key path/ },
  { name: '--set faults.5.kind=crash', args: () => ['run', VALID, '--set', 'faults.5.kind=crash'], expect: /^dtemu: --set faults\.5\.kind: expected an index of faults up to 0/ },
  { name: '--set key with a newline', args: () => ['validate', VALID, '--set', 'optim\nizer.lr=1'], expect: /optim izer: unknown key/ },
  { name: '--set of a misspelt top key', args: () => ['validate', VALID, '--set', 'optimzer.lr=1'], expect: /^dtemu: --set optimzer\.lr: optimzer: unknown key \(did you mean 'optimizer'\?\)/ },
  { name: '--set without =', args: () => ['run', VALID, '--set', 'workers'], expect: /^dtemu: --set workers: expected key\.path=value/ },
  { name: '--set workers=.inf', args: () => ['run', VALID, '--set', 'workers=.inf'], expect: /^dtemu: --set workers: .*Infinity/ },
  { name: '--set optimizer.lr=.nan', args: () => ['validate', VALID, '--set', 'optimizer.lr=.nan'], expect: /^dtemu: --set optimizer\.lr: .*NaN/ },
  { name: '--set train.steps=1e12', args: () => ['validate', VALID, '--set', 'train.steps=1e12'], expect: /^dtemu: --set train\.steps: .*limits\.maxSteps/ },
  { name: 'sweep --parallel -1', args: (t) => ['sweep', VALID, '--parallel', '-1', '--out', join(t, 'sw')], expect: /^dtemu: --parallel: expected an integer from 1 to 64, found -1$/ },
  { name: 'sweep --parallel abc', args: (t) => ['sweep', VALID, '--parallel', 'abc', '--out', join(t, 'sw')], expect: /^dtemu: --parallel: / },
  { name: 'sweep --max-points 0', args: (t) => ['sweep', VALID, '--max-points', '0', '--out', join(t, 'sw')], expect: /^dtemu: --max-points: / },
  { name: '--out is a file', setup: (t) => writeFileSync(join(t, 'afile'), 'x'), args: (t) => ['run', VALID, '--out', join(t, 'afile')], expect: /^dtemu: --out .*afile: expected a directory, found a file$/ },
  { name: '--out under a file', setup: (t) => writeFileSync(join(t, 'afile'), 'x'), args: (t) => ['run', VALID, '--out', join(t, 'afile', 'sub')], expect: /a parent of it is a file/ },
  {
    name: '--out not empty',
    setup: (t) => {
      mkdirSync(join(t, 'full'));
      writeFileSync(join(t, 'full', 'keep.txt'), 'x');
    },
    args: (t) => ['run', VALID, '--out', join(t, 'full')],
    expect: /^dtemu: --out .*full: the directory exists and is not empty; choose a new one$/,
  },
  {
    name: '--out locked by a live dtemu',
    setup: (t) => {
      mkdirSync(join(t, 'busy'));
      writeFileSync(join(t, 'busy', '.dtemu.lock'), live);
    },
    args: (t) => ['run', VALID, '--out', join(t, 'busy')],
    expect: new RegExp(`^dtemu: --out .*busy: .*is in use by dtemu run \\(pid ${process.pid} on `),
  },
  {
    name: 'sweep --out locked by a live dtemu',
    setup: (t) => {
      mkdirSync(join(t, 'busy'));
      writeFileSync(join(t, 'busy', '.dtemu.lock'), live);
    },
    args: (t) => ['sweep', join(DIR, '..', 'valid-tiny-sweep.yaml'), '--out', join(t, 'busy')],
    expect: /is in use by dtemu run/,
  },
  { name: 'status of nothing', args: (t) => ['status', join(t, 'nope')], expect: /^dtemu: .*nope: expected a run or sweep directory, found nothing$/ },
  { name: 'plot of a non-run directory', args: (t) => ['plot', t], expect: /not a run directory/ },
  { name: 'worker --join not a URL', args: () => ['worker', '--join', 'nonsense', '--token', 'x'], expect: /^dtemu: worker --join: expected a URL/ },
];

const special: Case[] = [
  { name: 'a FIFO', setup: (t) => execFileSync('mkfifo', [join(t, 'pipe.yaml')]), args: (t) => ['validate', join(t, 'pipe.yaml')], expect: /pipe\.yaml: expected a YAML file, found a FIFO/ },
  { name: '/dev/zero', args: () => ['validate', '/dev/zero'], expect: /^dtemu: \/dev\/zero: expected a YAML file, found a device$/ },
  {
    name: 'a FIFO as topology.file',
    setup: (t) => execFileSync('mkfifo', [join(t, 'links.csv')]),
    args: (t) => ['validate', VALID, '--set', `topology={kind: graph, file: ${join(t, 'links.csv')}}`],
    expect: /topology\.file: expected a readable links file \(a regular file\), found .*links\.csv \(not a regular file\)$/,
  },
  { name: '/dev/zero as a trace file', args: () => ['validate', VALID, '--set', 'network.traces=[{node: 1, file: /dev/zero}]'], expect: /network\.traces\.0\.file: expected a readable trace file \(a regular file\)/ },
  { name: 'a directory', setup: (t) => mkdirSync(join(t, 'd.yaml')), args: (t) => ['run', join(t, 'd.yaml')], expect: /d\.yaml: expected a YAML file, found a directory$/ },
  {
    name: 'a binary file',
    setup: (t) => writeFileSync(join(t, 'bin.yaml'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))),
    args: (t) => ['validate', join(t, 'bin.yaml')],
    expect: /bin\.yaml: expected a YAML text file, found binary data \(a NUL byte at offset \d+\)$/,
  },
  { name: 'not UTF-8', setup: (t) => writeFileSync(join(t, 'latin1.yaml'), Buffer.from('name: caf\xe9\n', 'latin1')), args: (t) => ['validate', join(t, 'latin1.yaml')], expect: /latin1\.yaml: expected a YAML text file in UTF-8/ },
  {
    name: 'a 2 MB file',
    setup: (t) => writeFileSync(join(t, 'big.yaml'), `# ${'x'.repeat(2 * 1024 * 1024)}\n` + readFileSync(VALID, 'utf8')),
    args: (t) => ['validate', join(t, 'big.yaml')],
    expect: /big\.yaml: expected a config of at most 1048576 bytes, found \d+ bytes$/,
  },
  { name: 'no such file', args: (t) => ['run', join(t, 'missing.yaml')], expect: /missing\.yaml: cannot read \(ENOENT\)$/ },
];

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

const cwd = process.cwd();
afterAll(() => process.chdir(cwd));

describe('malformed-input corpus', () => {
  const all = [...fileCases, ...flagCases, ...special];

  it('has at least 60 cases', () => {
    expect(fileCases.length).toBeGreaterThanOrEqual(60);
    expect(all.length).toBeGreaterThanOrEqual(80);
  });

  it('every case: exit 2, one located line, no stack trace, nothing written, bounded memory', async () => {
    let peakRss = 0;
    let baseRss = 0;
    const failures: string[] = [];
    for (const [i, c] of all.entries()) {
      const t = tmp('dtemu-corpus-');
      c.setup?.(t);
      const before = listing(t);
      // Default run directories would go to ./runs: the scratch directory must stay as it was.
      process.chdir(t);
      const r = await cliInProcess(c.args(t));
      process.chdir(cwd);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      const problems = [
        r.code !== 2 && `exit ${r.code}`,
        lines.length !== 1 && `${lines.length} lines on stderr`,
        /internal error|\n\s+at |Error:/.test(r.stderr) && 'a stack trace or internal error',
        !(lines[0] ?? '').startsWith('dtemu: ') && 'no "dtemu: " prefix',
        (lines[0]?.length ?? 0) > 400 && `a ${lines[0]!.length}-character line`,
        !(typeof c.expect === 'string' ? (lines[0] ?? '').includes(c.expect) : c.expect.test(lines[0] ?? '')) && `message does not match ${String(c.expect)}`,
        JSON.stringify(listing(t)) !== JSON.stringify(before) && `wrote ${listing(t).filter((f) => !before.includes(f)).join(', ')}`,
      ].filter(Boolean);
      if (problems.length > 0) failures.push(`${c.name}: ${problems.join('; ')}\n    stderr: ${r.stderr.trim().slice(0, 300)}`);
      const rss = process.memoryUsage().rss;
      if (i === 0) baseRss = rss;
      peakRss = Math.max(peakRss, rss);
    }
    expect(failures).toEqual([]);
    // No case read a huge input or built a huge model: memory stays where loading the CLI put it.
    console.log(`corpus: ${all.length} cases, RSS after the first ${(baseRss / 1e6).toFixed(0)} MB, peak ${(peakRss / 1e6).toFixed(0)} MB`);
    expect(peakRss - baseRss).toBeLessThan(300e6);
  }, 120_000);

  it('as real processes too: exit code 2 and one line', () => {
    for (const args of [
      ['validate', join(DIR, 'inf-lr.yaml')],
      ['run', VALID, '--seed', 'abc'],
    ]) {
      const r = dtemu(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
  });
});
