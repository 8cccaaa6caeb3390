// The running topology as a topology file would write it (config.get): sizes in bytes, every
// default spelled out, so `nexus validate` accepts it and it can be saved and loaded again.
// CHAP secrets are replaced by REDACTED unless the caller asks for them.

import type { AuthConfig, ChapSecret, DeviceConfig, Topology } from '../../engine/topology';

/** What stands in for a secret in config.get without `secrets: true`. */
export const REDACTED = '(redacted)';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function chap(c: ChapSecret, secrets: boolean): Json {
  // A secret given by reference stays a reference (config.save never writes it into the file).
  if (c.secretFile !== undefined) return { user: c.user, secretFile: c.secretFile };
  return { user: c.user, secret: secrets ? c.secret : REDACTED };
}

function auth(a: AuthConfig | undefined, secrets: boolean): { [k: string]: Json } | undefined {
  if (a === undefined || (a.chap === undefined && a.mutualChap === undefined)) return undefined;
  const out: { [k: string]: Json } = {};
  if (a.chap) out.chap = chap(a.chap, secrets);
  if (a.mutualChap) out.mutualChap = chap(a.mutualChap, secrets);
  return out;
}

/** Drops undefined members (JSON has none). */
function compact(o: { [k: string]: Json | undefined }): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * The settings a handler does not take from the file, because its medium, its device or its
 * library gives them (load.ts refuses them there): a CD/DVD-ROM's size is its image's, a tape
 * drive's capacity its cartridge's and its block length the initiator's (SSC-4 MODE SELECT), a
 * pass-through device's are the device's own, and a changer has no medium of blocks at all.
 */
const NOT_WRITTEN: Partial<Record<DeviceConfig['handler'], readonly string[]>> = {
  vcdrom: ['size', 'physicalBlockSize'],
  vtape: ['size', 'blockSize', 'physicalBlockSize'],
  passthrough: ['size', 'blockSize', 'physicalBlockSize', 'thin', 'writeCache', 'removable', 'serial', 'vendor', 'product', 'revision'],
  changer: ['path', 'size', 'blockSize', 'physicalBlockSize', 'writeCache', 'thin', 'readOnly', 'removable'],
  // An rbd device's size is its image's (rbd resize).
  rbd: ['size'],
};

function device(d: DeviceConfig): Json {
  const out = compact({
    name: d.name, deviceType: d.deviceType, handler: d.handler, path: d.path,
    // Bytes as a JSON number while exact (2^53 bytes is 8 PiB), else a string with the unit.
    size: d.sizeBytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d.sizeBytes) : `${d.sizeBytes.toString()}B`,
    blockSize: d.blockSize, physicalBlockSize: d.physicalBlockSize, writeCache: d.writeCache, thin: d.thin, readOnly: d.readOnly,
    removable: d.removable, serial: d.serial, vendor: d.vendor, product: d.product, revision: d.revision,
    allowVendorCommands: d.allowVendorCommands,
    // The topology's ALUA settings as written (the running states are in <stateDir>/alua/).
    alua: d.alua === undefined ? undefined : { tpgs: d.alua.tpgs, transitionMs: d.alua.transitionMs, states: { ...d.alua.states } },
  });
  for (const k of NOT_WRITTEN[d.handler] ?? []) delete out[k];
  // Where an rbd device's image is (absolute paths: the loader made them so).
  if (d.rbd !== undefined) Object.assign(out, compact({ ...d.rbd }));
  const lib = d.library;
  if (lib !== undefined) {
    // The library as set at start (its cartridges where they started); where each cartridge is
    // now is the state file's, which the library keeps.
    Object.assign(out, {
      drives: [...lib.drives], slots: lib.slots, mailSlots: lib.mailSlots, state: lib.statePath,
      cartridges: lib.cartridges.map(c => ({ barcode: c.barcode, path: c.path, slot: c.slot })),
    });
  }
  return out;
}

export function topologyDocument(t: Topology, opts: { secrets: boolean }): { [k: string]: Json } {
  const s = opts.secrets;
  const iscsi: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(t.iscsi)) if (v !== undefined) iscsi[k] = Array.isArray(v) ? [...(v as string[])] : (v as Json);
  return compact({
    stateDir: t.stateDir === '' ? undefined : t.stateDir,
    gateway: t.gateway,
    engine: { threads: t.engine.threads, bufferPool: t.engine.bufferPoolBytes, ...(t.engine.statistics === false ? { statistics: false } : {}) },
    iscsi,
    control: t.control?.socket !== undefined ? { socket: t.control.socket } : undefined,
    metrics: t.metrics !== undefined ? { listen: t.metrics.listen } : undefined,
    devices: t.devices.map(device),
    targets: t.targets.map(tg => compact({
      driver: tg.driver, name: tg.name, alias: tg.alias, enabled: tg.enabled === false ? false : undefined, portals: [...tg.portals],
      auth: auth(tg.auth, s), discoveryAuth: auth(tg.discoveryAuth, s),
      portGroups: tg.portGroups?.map(g => compact({ id: g.id, portals: [...g.portals], gateway: g.gateway })),
      wwn: tg.fabric?.wwn, tpgt: tg.fabric?.tpgt, initiator: tg.fabric?.initiator,
      acls: tg.fabric?.acls.map(a => ({ initiator: a.initiator, readOnly: a.readOnly })),
      luns: tg.luns.map(m => ({ lun: m.lun, device: m.device, readOnly: m.readOnly })),
      groups: tg.groups.map(g => compact({
        name: g.name, initiators: [...g.initiators],
        luns: g.luns.map(m => ({ lun: m.lun, device: m.device, readOnly: m.readOnly })),
        auth: auth(g.auth, s),
      })),
    })),
  });
}
