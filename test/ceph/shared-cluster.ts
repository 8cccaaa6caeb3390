/**
 * One Ceph cluster for every suite of a `npm run test:ceph` run (starting one takes 15 to 40 s
 * and about 1 GB): the first suite that asks starts it, and a root-level after() hook, registered
 * when a suite file imports this module, stops it by PID once every suite is done. A suite that
 * failed asks for the logs to be kept (markFailed).
 */
import { tool, type Prereq } from '../helpers/prereq';
import * as native from '../../src/native';
import { CephCluster, startCluster } from './cluster';

/** librbd compiled into the addon (librbd-dev at build time). */
export const LIBRBD: Prereq = {
  what: 'librbd in the native addon (librbd-dev at build time)',
  available: native.haveLibrbd,
  howToGet: 'apt-get install librbd-dev, then npx node-gyp rebuild --nodedir=/usr',
  detail: native.librbdMissing,
};

/** What starting the cluster and managing its images takes. */
export const CEPH_PREREQS: readonly Prereq[] = [
  LIBRBD, tool('ceph-mon'), tool('ceph-osd'), tool('ceph-mgr'), tool('monmaptool'), tool('ceph-authtool'), tool('ceph'), tool('rbd'),
];

let started: Promise<CephCluster> | undefined;
let keepLogs = false;

export function sharedCluster(): Promise<CephCluster> {
  return (started ??= startCluster());
}

/** Keep the cluster's logs (its directory, without the data) for a failed run. */
export function markFailed(): void { keepLogs = true; }

after(async function () {
  this.timeout(120_000);
  const c = await started?.catch(() => undefined);
  if (c === undefined) return;
  if (keepLogs) console.log(`ceph logs kept in ${c.dir}/log`);
  await c.stop(keepLogs);
});
