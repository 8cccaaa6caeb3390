/**
 * The topology model: SCST's split of handlers owning devices and target drivers owning targets,
 * with security groups that give matching initiators their own LUN maps (DESIGN.md §7).
 *
 * These are the *normalized* shapes the engine consumes: sizes are bytes as bigint, defaults are
 * filled in. The daemon's JSON file is validated and normalized into this by src/daemon/config;
 * embedded mode builds it directly (or through the same normalizer).
 */

/**
 * `vcdrom`: a CD/DVD-ROM drive over an ISO image file (read-only, 2048-byte blocks), or empty.
 * `vtape`: a tape drive holding a cartridge file (docs/tape-format.md), or empty.
 * `changer`: a medium changer (SMC-3) whose library state is a file (LibraryConfig).
 * `passthrough`: a real SCSI device through its sg node, shared by every initiator that sees it.
 * `rbd`: a Ceph RBD image (RbdConfig), through librbd.
 */
export type HandlerName = 'fileio' | 'blockio' | 'nullio' | 'ram' | 'vcdrom' | 'vtape' | 'changer' | 'passthrough' | 'rbd';

/** Where an rbd device's image is and how the gateway reaches its cluster (handler `rbd`). */
export interface RbdConfig {
  pool: string;
  image: string;
  /** ceph.conf (absolute); absent: librados's default (CEPH_CONF, /etc/ceph/ceph.conf). */
  cephConf?: string;
  /** Ceph entity name, e.g. client.nexus; absent: client.admin. */
  cephUser?: string;
  /** Keyring file (absolute); absent: what ceph.conf says. */
  keyring?: string;
}

/** A cartridge of a library: its medium file and its bar code label (SMC-3 primary volume tag). */
export interface CartridgeConfig {
  barcode: string;
  path: string;
}

/**
 * The library behind a medium changer (handler `changer`): the removable-medium devices it loads
 * (its data transfer elements, in element order), its storage and import/export slots, the
 * cartridges it starts with, and the file that keeps where each cartridge is.
 */
export interface LibraryConfig {
  /** Device names of the drives (removable-medium devices of the same topology). */
  drives: string[];
  /** Storage elements. */
  slots: number;
  /** Import/export elements (mail slots). */
  mailSlots: number;
  /** Cartridges in storage slots at first start, `slot` counted from 1. */
  cartridges: Array<CartridgeConfig & { slot: number }>;
  /** The library state file (absolute): where each cartridge is, kept across restarts. */
  statePath: string;
}

export interface DeviceConfig {
  name: string;
  /** The device personality (device-registry.ts); absent = 'disk'. */
  deviceType?: string;
  handler: HandlerName;
  /**
   * Backing file or block device (fileio, blockio); the ISO image of a vcdrom, the cartridge a
   * vtape drive holds at start (absent: no medium).
   */
  path?: string;
  /** Capacity in bytes; for fileio an existing file's size wins when absent. */
  sizeBytes: bigint;
  /** Logical block size: 512 or 4096 for disks; 2048 for CD/DVD media (MMC-6: a CD-ROM mode 1 or DVD sector holds 2048 user bytes). */
  blockSize: 512 | 2048 | 4096;
  /** Physical block size reported in READ CAPACITY(16); default 4096 (512e for 512-byte logical blocks). */
  physicalBlockSize?: 512 | 4096;
  /** Write-back (page cache, WCE=1) or write-through (every write synced, WCE=0). */
  writeCache: 'writeback' | 'writethrough';
  /** Thin provisioning: UNMAP / WRITE SAME with UNMAP punch holes, GET LBA STATUS reports them. */
  thin: boolean;
  readOnly: boolean;
  /**
   * Removable medium (INQUIRY RMB = 1): START STOP UNIT with LOEJ ejects and loads it, PREVENT
   * ALLOW MEDIUM REMOVAL locks it in. Absent = false.
   */
  removable?: boolean;
  /** Unit serial number (VPD 80h); derived from the name when absent. */
  serial?: string;
  vendor?: string;
  product?: string;
  revision?: string;
  /** The library of a medium changer (handler `changer`). */
  library?: LibraryConfig;
  /** The image of an rbd device (handler `rbd`). */
  rbd?: RbdConfig;
  /**
   * A pass-through device takes vendor-specific opcodes (C0h..FFh) outside its command table, their
   * direction and length as the initiator gives them. Absent = false: INVALID COMMAND OPERATION CODE.
   */
  allowVendorCommands?: boolean;
  /** Asymmetric logical unit access (SPC-4 5.16); absent = both modes, active/optimized everywhere. */
  alua?: AluaConfig;
}

/**
 * SPC-4 6.6.2 TPGS field: which asymmetric access management the unit supports. `implicit`: only
 * the unit changes its states (here, the control plane); `explicit`: SET TARGET PORT GROUPS too.
 */
export type TpgsMode = 'implicit' | 'explicit' | 'both';

/** SPC-4 5.16.2.1 primary target port asymmetric access states, as the topology spells them. */
export type AccessStateName =
  'active/optimized' | 'active/non-optimized' | 'standby' | 'unavailable' | 'offline' | 'transitioning';

/**
 * A device's ALUA settings: its access state in each target port group, by group id (groups
 * without an entry are active/optimized), its TPGS mode and the implicit transition time.
 */
export interface AluaConfig {
  tpgs: TpgsMode;
  states: Record<number, AccessStateName>;
  /** Milliseconds a change spends in transitioning (SPC-4 5.16.2.6) before the new state; 0 = at once. */
  transitionMs: number;
}

/**
 * A target port group (SPC-4 5.16.2.1): the portals of one target that share an access state per
 * logical unit. For iSCSI it is one target portal group (RFC 7143 4.4.1): its id is the Target
 * Portal Group Tag its portals answer logins and SendTargets with, and, since an iSCSI target port
 * is a target portal group (RFC 7143 4.4.1, "SCSI Port"), it holds one SCSI target port whose
 * relative target port identifier is that id too.
 */
export interface PortGroupConfig {
  id: number;
  portals: string[];
  /**
   * The gateway (Nexus daemon) serving the group, when several daemons act as one target over a
   * shared store (README "Scaling out with Ceph"); absent: this daemon.
   */
  gateway?: string;
  /**
   * Served by another gateway: its portals are not listened on here, but the group is one of the
   * target's (REPORT TARGET PORT GROUPS, VPD 88h, SendTargets, ALL_TG_PT) like the others.
   */
  remote?: boolean;
}

export interface ChapSecret {
  user: string;
  secret: string;
  /** Where the secret was read from (absolute), when the topology gave it by reference. */
  secretFile?: string;
}

export interface AuthConfig {
  /** Credentials the initiator must prove (one-way CHAP). */
  chap?: ChapSecret;
  /** Credentials the target proves to the initiator (mutual CHAP). */
  mutualChap?: ChapSecret;
}

export interface LunMapping { lun: number; device: string; readOnly: boolean }

export interface GroupConfig {
  name: string;
  /** Initiator names, `*` and `?` wildcards allowed (SCST security groups). */
  initiators: string[];
  luns: LunMapping[];
  /** Overrides the target's auth for the group's initiators. */
  auth?: AuthConfig;
}

/**
 * HBA target-mode fabrics (DESIGN.md §8): the port belongs to a Linux fabric module (tcm_loop,
 * tcm_qla2xxx, tcm_fc, ib_srpt) and reaches Nexus through LIO's TCMU; `nexus shim` wires it.
 */
export type FabricDriver = 'loopback' | 'fc' | 'fcoe' | 'srp';

/** A fabric target's port, TPG and node ACLs as LIO's configfs takes them (kernel-shim/). */
export interface FabricTargetConfig {
  /** The target port: naa./fc./iqn. (loopback), WWPN (fc, fcoe), HCA port GUID or GID (srp). */
  wwn: string;
  /** The target portal group tag (tpgt_N). */
  tpgt: number;
  /** loopback: the initiator port of the tcm_loop nexus; absent = derived from `wwn`. */
  initiator?: string;
  /** Node ACLs: initiators allowed in, each seeing the target's LUNs (write-protected if readOnly). */
  acls: { initiator: string; readOnly: boolean }[];
}

export interface TargetConfig {
  driver: 'iscsi' | 'local' | FabricDriver;
  name: string;
  alias?: string;
  /** "host:port" or "[v6]:port". */
  portals: string[];
  auth?: AuthConfig;
  /** CHAP for discovery sessions (SendTargets). */
  discoveryAuth?: AuthConfig;
  /** false: no new logins, not listed by discovery (SCST's target `enabled`); absent = true. */
  enabled?: boolean;
  luns: LunMapping[];
  groups: GroupConfig[];
  /** Target port groups over `portals`; absent = one group, id 1, holding every portal. */
  portGroups?: PortGroupConfig[];
  /** A fabric target's port (driver loopback, fc, fcoe or srp). */
  fabric?: FabricTargetConfig;
}

/** The target port groups of `t`: its own, or the default of one group (id 1) of every portal. */
export function portGroupsOf(t: Pick<TargetConfig, 'portals' | 'portGroups'>): PortGroupConfig[] {
  return t.portGroups ?? [{ id: 1, portals: [...t.portals] }];
}

/** The portals this daemon listens on for `t`: those of its groups not served by another gateway. */
export function localPortalsOf(t: Pick<TargetConfig, 'portals' | 'portGroups'>): string[] {
  const remote = new Set(portGroupsOf(t).filter(g => g.remote === true).flatMap(g => g.portals));
  return t.portals.filter(p => !remote.has(p));
}

/**
 * The target port a nexus came in on (SPC-4 3.1.121): the target port group holding `portal`,
 * whose id is the iSCSI TPGT, the relative target port identifier and the target port group id at
 * once (PortGroupConfig). A nexus of no known portal (the local transport, a portal no longer
 * listed) is on the group of the first portal, or group 1.
 */
export function targetPortOf(t: Pick<TargetConfig, 'portals' | 'portGroups'>, portal: string | undefined): { relativeTargetPortId: number; targetPortGroupId: number } {
  const groups = portGroupsOf(t);
  const at = portal !== undefined && t.portals.includes(portal) ? portal : t.portals[0];
  const id = (groups.find(g => at !== undefined && g.portals.includes(at)) ?? groups[0])?.id ?? 1;
  return { relativeTargetPortId: id, targetPortGroupId: id };
}

/** RFC 7143 4.4.1: the Target Portal Group Tag of target `t` on `portal` (its port group's id). */
export function portalGroupTagOf(t: Pick<TargetConfig, 'portals' | 'portGroups'>, portal: string | undefined): number {
  return targetPortOf(t, portal).targetPortGroupId;
}

/**
 * The topology's per-fabric sections (DESIGN.md §7), by section name. The engine names no
 * transport: each transport adds its own section by declaration merging from its side
 * (transports/iscsi/settings.ts adds `iscsi`, derived from the iSCSI key table), so a section's
 * type, defaults and schema stay with the transport that reads them.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface FabricSettings {}

export interface EngineSettings {
  /** Engine worker threads; 0 = host everything on the calling thread. */
  threads: number;
  /** Shared data buffer pool size in bytes. */
  bufferPoolBytes: number;
  /**
   * false: the data path counts nothing beyond log page 19h (statistics-switch.ts); only the
   * benchmark's counter-cost comparison turns it off. Absent: on.
   */
  statistics?: boolean;
}

export interface Topology extends FabricSettings {
  /**
   * The name of this daemon among the gateways that serve one target over a shared store (the
   * `gateway` of its target port groups); absent: the only one.
   */
  gateway?: string;
  /** Where persistent state lives (file LUNs created by default, saved mode pages, PR state). */
  stateDir: string;
  engine: EngineSettings;
  devices: DeviceConfig[];
  targets: TargetConfig[];
  /** The daemon's control socket (absolute path; the daemon's default is <stateDir>/control.sock). */
  control?: { socket?: string };
  /** The Prometheus endpoint ("host:port"), off when absent. */
  metrics?: { listen: string };
}
