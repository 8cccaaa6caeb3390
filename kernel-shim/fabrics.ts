// The Linux target-mode fabrics the shim wires to Nexus (DESIGN.md §8), as their kernel modules
// lay them out in configfs (/sys/kernel/config/target/<dir>/<wwn>/tpgt_<n>/...). Each row says
// what the kernel accepts, read from the module's source:
//
// - loopback: tcm_loop (drivers/target/loopback/tcm_loop.c). tcm_loop_make_scsi_hba takes a WWN
//   with the protocol prefix naa. (SAS), fc. or iqn.; the I_T nexus is made by writing the
//   initiator port name (same prefix) to tpgt_N/nexus; any tpgt_N; demo mode on (every initiator
//   sees the TPG's LUNs), node ACLs optional. It stands in for a SAS HBA in target mode.
// - fc: tcm_qla2xxx (drivers/scsi/qla2xxx/tcm_qla2xxx.c), configfs dir qla2xxx: the HBA port's
//   WWPN as 8 lowercase hex bytes joined by colons (tcm_qla2xxx_parse_wwn, strict); one TPG,
//   tpgt_1, switched on with tpgt_1/enable; node ACLs by initiator WWPN in the same format.
// - fcoe: tcm_fc (drivers/target/tcm_fc/tfc_conf.c), configfs dir fc: the local FCoE port's WWPN
//   in the same strict colon format (ft_parse_wwn), the single tpgt_1, ACLs by WWPN.
// - srp: ib_srpt (drivers/infiniband/ulp/srpt/ib_srpt.c), configfs dir srpt: the target port is
//   an existing HCA port, named by its GUID (xxxx:xxxx:xxxx:xxxx) or GID (0x + 32 hex digits,
//   srpt_lookup_port); any tpgt_N, switched on with enable; demo mode off, so every initiator
//   needs a node ACL: its 128-bit port id (0x + up to 32 hex digits, srpt_parse_i_port_id), a GUID
//   or, for RDMA/CM, an IP address.

import type { FabricDriver } from '../src/engine/topology';

export type { FabricDriver };

export const FABRIC_DRIVERS: readonly FabricDriver[] = ['loopback', 'fc', 'fcoe', 'srp'];

export interface Fabric {
  readonly driver: FabricDriver;
  /** Directory under /sys/kernel/config/target. */
  readonly configfsDir: string;
  /** The kernel module that registers it. */
  readonly module: string;
  /** What the WWN looks like, for error messages. */
  readonly wwnFormat: string;
  /** The kernel's check of a target WWN (null: acceptable). */
  checkWwn(wwn: string): string | null;
  /** The kernel's check of a node ACL's initiator name. */
  checkInitiator(name: string): string | null;
  /** The only TPG tag the module takes, when it takes one only. */
  readonly onlyTpgt?: number;
  /** tpgt_N/enable switches the port on. */
  readonly tpgEnable: boolean;
  /** Every initiator needs a node ACL (demo mode off). */
  readonly aclsRequired: boolean;
  /** loopback: the initiator port is made by writing its name to tpgt_N/nexus. */
  readonly nexusAttribute: boolean;
}

const COLON_WWN = /^[0-9a-f]{2}(:[0-9a-f]{2}){7}$/;
const COLON_WWN_TEXT = '8 lowercase hex bytes joined by colons (21:00:00:24:ff:31:4c:48)';

function colonWwn(what: string) {
  return (s: string): string | null => (COLON_WWN.test(s) ? null : `${what} must be ${COLON_WWN_TEXT}, not "${s}"`);
}

/** tcm_loop_make_scsi_hba / tcm_loop_make_nexus: a protocol prefix; for SAS an NAA of 16 hex digits. */
function loopbackName(what: string) {
  return (s: string): string | null => {
    if (/^naa\.[0-9a-fA-F]{16}$/.test(s)) return null;
    if (/^fc\.[0-9a-fA-F]{16}$/.test(s)) return null;
    if (/^iqn\.\d{4}-\d{2}\.[^\s]+$/.test(s)) return null;
    return `${what} must be naa. followed by 16 hex digits (a SAS address), fc. followed by 16 hex digits, or an iqn. name; not "${s}"`;
  };
}

const SRP_GUID = /^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}$/;
const SRP_GID = /^0x[0-9a-fA-F]{32}$/;

export const FABRICS: Readonly<Record<FabricDriver, Fabric>> = {
  loopback: {
    driver: 'loopback', configfsDir: 'loopback', module: 'tcm_loop',
    wwnFormat: 'naa.<16 hex digits>, fc.<16 hex digits> or iqn.…',
    checkWwn: loopbackName('a loopback target WWN'), checkInitiator: loopbackName('a loopback initiator port name'),
    tpgEnable: false, aclsRequired: false, nexusAttribute: true,
  },
  fc: {
    driver: 'fc', configfsDir: 'qla2xxx', module: 'tcm_qla2xxx', wwnFormat: COLON_WWN_TEXT,
    checkWwn: colonWwn('an FC target WWPN'), checkInitiator: colonWwn('an FC initiator WWPN'),
    onlyTpgt: 1, tpgEnable: true, aclsRequired: true, nexusAttribute: false,
  },
  fcoe: {
    driver: 'fcoe', configfsDir: 'fc', module: 'tcm_fc', wwnFormat: COLON_WWN_TEXT,
    checkWwn: colonWwn('an FCoE target WWPN'), checkInitiator: colonWwn('an FCoE initiator WWPN'),
    onlyTpgt: 1, tpgEnable: false, aclsRequired: true, nexusAttribute: false,
  },
  srp: {
    driver: 'srp', configfsDir: 'srpt', module: 'ib_srpt',
    wwnFormat: 'an HCA port GUID (fe80:0000:0000:0001 style) or GID (0x + 32 hex digits)',
    checkWwn: (s: string) => (SRP_GUID.test(s) || SRP_GID.test(s) ? null
      : `an SRP target port must be an HCA port GUID (xxxx:xxxx:xxxx:xxxx) or GID (0x followed by 32 hex digits), not "${s}"`),
    checkInitiator: (s: string) => {
      if (SRP_GUID.test(s)) return null;
      const hex = s.replace(/^0x/i, '');
      if (/^[0-9a-fA-F]+$/.test(hex) && hex.length % 2 === 0 && hex.length <= 32) return null;
      if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s) || (s.includes(':') && /^[0-9a-fA-F:]+$/.test(s))) return null;
      return `an SRP initiator port id must be 0x followed by up to 32 hex digits (an even number), a GUID or an IP address, not "${s}"`;
    },
    tpgEnable: true, aclsRequired: true, nexusAttribute: false,
  },
};

export function isFabricDriver(v: unknown): v is FabricDriver {
  return typeof v === 'string' && (FABRIC_DRIVERS as readonly string[]).includes(v);
}

/**
 * tcm_loop's initiator port for a target without one given: the target's name with its last hex
 * digit made f (both ends of the loopback nexus are then told apart in logs).
 */
export function defaultLoopbackInitiator(wwn: string): string {
  return /[0-9a-fA-F]$/.test(wwn) && !wwn.startsWith('iqn.') ? `${wwn.slice(0, -1)}${wwn.endsWith('f') ? 'e' : 'f'}` : `${wwn}:initiator`;
}
