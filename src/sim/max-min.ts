/**
 * Max-min fair rates by progressive filling (as SimGrid's flow model): every unfixed flow's rate
 * rises together until a link saturates; the flows crossing the most constrained link are fixed
 * at its fair share, their bandwidth is removed from the other links they cross, and filling
 * goes on with the rest. Pure and allocation-light: callers pass scratch arrays sized to the
 * link count (`newly` grows with the flow count).
 *
 * `routes[f]` lists the link indices of active flow f. Returns rates in bits/s in `rate`.
 */
export function maxMinRates(
  routes: readonly Int32Array[],
  bandwidth: Float64Array,
  rate: Float64Array,
  scratch: { cap: Float64Array; count: Int32Array; touched: Int32Array; newly: Int32Array },
): void {
  const { cap, count, touched } = scratch;
  if (scratch.newly.length < routes.length) scratch.newly = new Int32Array(Math.max(routes.length, 2 * scratch.newly.length));
  const newly = scratch.newly;
  const nf = routes.length;
  let nt = 0;
  for (let f = 0; f < nf; f++) {
    rate[f] = -1;
    const r = routes[f]!;
    for (let k = 0; k < r.length; k++) {
      const l = r[k]!;
      if (count[l] === 0) {
        cap[l] = bandwidth[l]!;
        touched[nt++] = l;
      }
      count[l]!++;
    }
  }
  let unfixed = nf;
  for (let f = 0; f < nf; f++) {
    // A flow with an empty route (to itself) is not limited by any link.
    if (routes[f]!.length === 0) {
      rate[f] = Infinity;
      unfixed--;
    }
  }
  while (unfixed > 0) {
    let share = Infinity;
    for (let i = 0; i < nt; i++) {
      const l = touched[i]!;
      const c = count[l]!;
      if (c > 0) {
        const s = cap[l]! / c;
        if (s < share) share = s;
      }
    }
    // Fix every flow crossing a link whose fair share is the minimum (ties fixed together, so
    // symmetric patterns take one pass), then take their rate off every link they cross.
    let nn = 0;
    for (let f = 0; f < nf; f++) {
      if (rate[f]! >= 0) continue;
      const r = routes[f]!;
      for (let k = 0; k < r.length; k++) {
        const l = r[k]!;
        if (cap[l]! / count[l]! <= share) {
          newly[nn++] = f;
          break;
        }
      }
    }
    for (let i = 0; i < nn; i++) {
      const f = newly[i]!;
      rate[f] = share;
      unfixed--;
      const r = routes[f]!;
      for (let k = 0; k < r.length; k++) {
        const l = r[k]!;
        cap[l] = Math.max(0, cap[l]! - share);
        count[l]!--;
      }
    }
  }
  for (let i = 0; i < nt; i++) count[touched[i]!] = 0;
}
