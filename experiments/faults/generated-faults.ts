// A generated fault timeline for generated.yaml. `timeline` is called once, before the run, with
// { workers, steps, seed, topology, links } and returns fault entries written as in YAML; they are
// validated like the YAML timeline and listed in the run's manifest.json (generatedFaults).
// Must be a pure function of its argument (same seed, same faults).
//
// Here, drawn from the run's seed: two workers (never worker 0, which evaluates) crash at random
// steps in the middle third of the run and come back 30 steps later, and the master's incoming
// link drops to a tenth of its bandwidth for a random half second.
export function timeline({ workers, steps, seed }: { workers: number; steps: number; seed: number; links: string[] }) {
  // mulberry32: a tiny seeded generator, enough for picking faults.
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const first = 1 + Math.floor(rand() * (workers - 1));
  const second = 1 + ((first - 1 + 1 + Math.floor(rand() * (workers - 2))) % (workers - 1));
  const crashAt = () => Math.floor(steps / 3 + rand() * (steps / 3));
  return [
    { kind: 'crash', worker: first, at: crashAt(), rejoin: 30 },
    { kind: 'crash', worker: second, at: crashAt(), rejoin: 30 },
    { kind: 'link', link: 'server-in', bandwidth: '100 Mb/s', at: `${(1 + rand()).toFixed(3)} s`, for: '0.5 s' },
  ];
}
