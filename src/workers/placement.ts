// Placement (DESIGN.md §3, §10): which engine thread hosts each unit, and which one a new session
// goes to. DESIGN.md §3: "when the session and the LUN live on the same thread the call is
// direct: no ring, no copy", so the default keeps every unit a session can reach on one thread.
//
// colocate (default): devices exported together (by one target, in its own LUN map or any of its
//   groups' maps; transitively, when a device is exported by several targets) form one placement
//   group, homed on one thread; groups go round-robin over the threads in topology order. Every
//   session then finds all its units on the thread it is placed on, and threads a topology gives
//   no work stay parked. A single target's sessions share one thread.
// spread: device i on thread i mod N, whatever exports it: a target's units work on several
//   threads at once, and a session reaches all but one thread's units through the rings.
// In both modes a medium changer and the drives of its library share one thread (the changer's):
// MOVE MEDIUM loads and unloads the drives' units directly (SMC-3 over the drives' own medium).

import type { DeviceConfig, TargetConfig } from '../engine/topology';

export type Homing = 'colocate' | 'spread';

/** Engine thread of each device, in topology order, for `threads` > 0 engine threads. */
export function homeThreads(
  topology: { readonly devices: readonly DeviceConfig[]; readonly targets: readonly TargetConfig[] },
  threads: number,
  homing: Homing = 'colocate',
): number[] {
  const n = topology.devices.length;
  const index = new Map(topology.devices.map((d, i) => [d.name, i]));
  if (homing === 'spread') {
    const home = topology.devices.map((_, i) => i % threads);
    topology.devices.forEach((d, i) => {
      for (const drive of d.library?.drives ?? []) {
        const k = index.get(drive);
        if (k !== undefined) home[k] = home[i];
      }
    });
    return home;
  }
  // Union-find over devices: one set per placement group.
  const parent = topology.devices.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const join = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  topology.devices.forEach((d, i) => {
    for (const drive of d.library?.drives ?? []) {
      const k = index.get(drive);
      if (k !== undefined) join(i, k);
    }
  });
  for (const t of topology.targets) {
    const maps = [t.luns, ...t.groups.map(g => g.luns)];
    let first = -1;
    for (const m of maps) {
      for (const l of m) {
        const i = index.get(l.device);
        if (i === undefined) continue;
        if (first < 0) first = i;
        else join(first, i);
      }
    }
  }
  // Groups in order of their first device; group k on thread k mod N.
  const groupThread = new Map<number, number>();
  const home: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = find(i);
    let t = groupThread.get(r);
    if (t === undefined) {
      t = groupThread.size % threads;
      groupThread.set(r, t);
    }
    home.push(t);
  }
  return home;
}

/**
 * Thread for a new session: the one hosting most of the units it will use; a tie goes to the one
 * with fewest sessions, then the lowest index. `unitThreads` lists the home thread of each unit
 * (once per unit); `up[t]` false excludes thread t. -1 when no thread is up.
 */
export function placeSession(unitThreads: readonly number[], up: readonly boolean[], load: (t: number) => number): number {
  const units = new Array<number>(up.length).fill(0);
  for (const t of unitThreads) if (t >= 0 && t < up.length) units[t]++;
  let best = -1;
  for (let t = 0; t < up.length; t++) {
    if (!up[t]) continue;
    if (best < 0 || units[t] > units[best] || (units[t] === units[best] && load(t) < load(best))) best = t;
  }
  return best;
}
