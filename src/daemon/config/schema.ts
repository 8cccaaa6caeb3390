/**
 * JSON Schema of the topology FILE (DESIGN.md §7): what a person writes, before defaults and units
 * are resolved. Shape only: cross-references (device names, duplicates, sizes against block sizes,
 * CHAP secret rules, portal syntax) are semantic checks in load.ts, so that each mistake gets one
 * message in words rather than a schema keyword.
 *
 * Every object is closed (`additionalProperties: false`) so a misspelt key is an error, not a
 * silently ignored setting.
 */

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { iscsiSettingsSchema } from '../../transports/iscsi/settings';

/** A size: bytes as a non-negative integer, or a string with a unit ("512MiB"); parsed in size.ts. */
/** A library's storage or mail slots: element addresses leave room for this many (smc/elements.ts). */
const LIBRARY_MAX_SLOTS = 4096;

const size = { anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer', minimum: 0 }] } as const;

/** Object/device/group names: printable, no separators that would break URLs or sysfs-like paths. */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$';

const chapSecret = {
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: {
    // RFC 7143 13.1 / RFC 1994: CHAP_N is a text value; keep it printable.
    user: { type: 'string', minLength: 1, maxLength: 255 },
    // Byte length rules (RFC 7143 9.2.1) are checked in load.ts, which counts UTF-8 bytes.
    secret: { type: 'string' },
    // Or the secret by reference: a file holding it (relative to the topology file), so the
    // topology (and config.save) never holds it. load.ts wants exactly one of the two.
    secretFile: { type: 'string', minLength: 1 },
  },
} as const;

const auth = {
  type: 'object',
  additionalProperties: false,
  properties: {
    chap: { $ref: '#/$defs/chapSecret' },
    mutualChap: { $ref: '#/$defs/chapSecret' },
  },
} as const;

const lunMapping = {
  type: 'object',
  additionalProperties: false,
  required: ['lun', 'device'],
  properties: {
    // SAM-5 4.7.7.2: flat-space/peripheral addressing gives 14-bit LUNs, 0..16383.
    lun: { type: 'integer', minimum: 0, maximum: 16383 },
    device: { type: 'string', minLength: 1 },
    readOnly: { type: 'boolean' },
  },
} as const;

const group = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'initiators'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    initiators: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1, maxLength: 223 } },
    luns: { type: 'array', items: { $ref: '#/$defs/lunMapping' } },
    auth: { $ref: '#/$defs/auth' },
  },
} as const;

const device = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'handler'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    // A device personality registered with the engine (src/engine/device-registry.ts); load.ts
    // names the registered ones when it is not.
    deviceType: { type: 'string', minLength: 1 },
    // vcdrom: a CD/DVD-ROM drive over an ISO image (`path`), or empty without one.
    // vtape: a tape drive holding the cartridge at `path` (docs/tape-format.md), or empty.
    // changer: a medium changer (SMC-3) over the library below (`drives` .. `state`).
    // passthrough: a real SCSI device (`path`: /dev/sgN, its block or bsg node, /dev/disk/by-id/...).
    // rbd: a Ceph RBD image (`pool`, `image`, and how to reach the cluster: `cephConf` .. `keyring`).
    handler: { enum: ['fileio', 'blockio', 'nullio', 'ram', 'vcdrom', 'vtape', 'changer', 'passthrough', 'rbd'] },
    path: { type: 'string', minLength: 1 },
    size,
    // 2048 only for vcdrom devices (load.ts says so at the path).
    blockSize: { enum: [512, 2048, 4096] },
    physicalBlockSize: { enum: [512, 4096] },
    writeCache: { enum: ['writeback', 'writethrough'] },
    thin: { type: 'boolean' },
    readOnly: { type: 'boolean' },
    removable: { type: 'boolean' },
    // SPC-4 7.8.18: the unit serial number is printable ASCII.
    serial: { type: 'string', pattern: '^[\\x20-\\x7e]{1,64}$' },
    // SPC-4 6.6.2 standard INQUIRY data: T10 vendor 8, product 16, revision 4 ASCII bytes.
    vendor: { type: 'string', pattern: '^[\\x20-\\x7e]{1,8}$' },
    product: { type: 'string', pattern: '^[\\x20-\\x7e]{1,16}$' },
    revision: { type: 'string', pattern: '^[\\x20-\\x7e]{1,4}$' },
    // A changer's library; load.ts refuses these on any other handler and checks the references.
    drives: { type: 'array', items: { type: 'string', minLength: 1 } },
    slots: { type: 'integer', minimum: 1, maximum: LIBRARY_MAX_SLOTS },
    mailSlots: { type: 'integer', minimum: 0, maximum: LIBRARY_MAX_SLOTS },
    cartridges: { type: 'array', items: { $ref: '#/$defs/cartridge' } },
    state: { type: 'string', minLength: 1 },
    // passthrough only: vendor-specific opcodes (C0h..FFh) outside the command table pass down.
    allowVendorCommands: { type: 'boolean' },
    // rbd only (load.ts refuses them elsewhere): the image and the cluster's client settings.
    pool: { type: 'string', minLength: 1 },
    image: { type: 'string', minLength: 1 },
    cephConf: { type: 'string', minLength: 1 },
    cephUser: { type: 'string', pattern: '^client\\.[^\\s]+$' },
    keyring: { type: 'string', minLength: 1 },
    alua: { $ref: '#/$defs/alua' },
  },
} as const;

/** SPC-4 5.16.2.1 access states as the topology spells them (engine/alua.ts). */
const ACCESS_STATES = ['active/optimized', 'active/non-optimized', 'standby', 'unavailable', 'offline', 'transitioning'];

/**
 * A device's ALUA settings (SPC-4 5.16): its access state per target port group id (load.ts checks
 * that a target has the group), its TPGS mode, and the time a transition takes.
 */
const alua = {
  type: 'object',
  additionalProperties: false,
  properties: {
    tpgs: { enum: ['implicit', 'explicit', 'both'] },
    // SPC-4 6.37: the IMPLICIT TRANSITION TIME field is one byte of seconds.
    transitionMs: { type: 'integer', minimum: 0, maximum: 255000 },
    // Keys: target port group ids, 1..65535 (SPC-4 6.37 TARGET PORT GROUP field, 16 bits).
    states: {
      type: 'object',
      propertyNames: { pattern: '^[1-9][0-9]{0,4}$' },
      additionalProperties: { enum: ACCESS_STATES },
    },
  },
} as const;

/** A target port group: its id (SPC-4 6.37, 16 bits, 0 reserved here) and its portals. */
const portGroup = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'portals'],
  properties: {
    id: { type: 'integer', minimum: 1, maximum: 65535 },
    portals: { type: 'array', minItems: 1, items: { type: 'string' } },
    // The gateway serving the group when several daemons act as one target (the topology's
    // `gateway` names this one); load.ts checks the two agree.
    gateway: { type: 'string', pattern: NAME_PATTERN },
  },
} as const;

/** A cartridge of a changer's library, in storage slot `slot` (1-based) at first start. */
const cartridge = {
  type: 'object',
  additionalProperties: false,
  required: ['barcode', 'path', 'slot'],
  properties: {
    // SMC-3 primary volume tag: a 32-byte VOLUME IDENTIFICATION field; printable, no spaces
    // (they pad the field).
    barcode: { type: 'string', pattern: '^[\\x21-\\x7e]{1,32}$' },
    path: { type: 'string', minLength: 1 },
    slot: { type: 'integer', minimum: 1 },
  },
} as const;

const target = {
  type: 'object',
  additionalProperties: false,
  required: ['driver', 'name'],
  properties: {
    driver: { enum: ['iscsi', 'local', 'loopback', 'fc', 'fcoe', 'srp'] },
    // Fabric targets (kernel-shim/): each fabric's WWN format is checked in load.ts.
    wwn: { type: 'string', minLength: 1 },
    tpgt: { type: 'integer', minimum: 1, maximum: 65535 },
    initiator: { type: 'string', minLength: 1 },
    acls: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['initiator'],
        properties: { initiator: { type: 'string', minLength: 1 }, readOnly: { type: 'boolean' } },
      },
    },
    // The iSCSI name format (iqn./eui./naa.) is checked in load.ts with a precise message.
    name: { type: 'string', minLength: 1 },
    // RFC 7143 13.6: TargetAlias is a UTF-8 text value of at most 255 bytes.
    alias: { type: 'string', minLength: 1, maxLength: 255 },
    // false: the target takes no new logins and discovery does not list it (absent: true).
    enabled: { type: 'boolean' },
    portals: { type: 'array', items: { type: 'string' } },
    auth: { $ref: '#/$defs/auth' },
    discoveryAuth: { $ref: '#/$defs/auth' },
    luns: { type: 'array', items: { $ref: '#/$defs/lunMapping' } },
    groups: { type: 'array', items: { $ref: '#/$defs/group' } },
    portGroups: { type: 'array', minItems: 1, items: { $ref: '#/$defs/portGroup' } },
  },
} as const;

/** RFC 7143 section 13 key ranges, spelled with the camelCase names of IscsiSettings (settings.ts). */
const iscsi = iscsiSettingsSchema();

export const topologyFileSchema = {
  $id: 'https://nexus.io/schemas/topology.json',
  type: 'object',
  additionalProperties: false,
  required: ['devices', 'targets'],
  properties: {
    $schema: { type: 'string' },
    stateDir: { type: 'string', minLength: 1 },
    // This daemon's name among the gateways of a shared store (README "Scaling out with Ceph").
    gateway: { type: 'string', pattern: NAME_PATTERN },
    engine: {
      type: 'object',
      additionalProperties: false,
      properties: {
        threads: { type: 'integer', minimum: 0, maximum: 1024 },
        bufferPool: size,
        // Data-path statistics (docs/control.md); off only to measure what they cost (bench --counters).
        statistics: { type: 'boolean' },
      },
    },
    iscsi,
    // The control socket (docs/control.md): a Unix domain socket, <stateDir>/control.sock unless given.
    control: {
      type: 'object',
      additionalProperties: false,
      properties: { socket: { type: 'string', minLength: 1 } },
    },
    // The Prometheus endpoint (docs/control.md), off unless `listen` is given.
    metrics: {
      type: 'object',
      additionalProperties: false,
      required: ['listen'],
      properties: { listen: { type: 'string', minLength: 1 } },
    },
    devices: { type: 'array', items: { $ref: '#/$defs/device' } },
    targets: { type: 'array', items: { $ref: '#/$defs/target' } },
  },
  $defs: { chapSecret, auth, lunMapping, group, device, cartridge, target, alua, portGroup },
} as const;

/** The file shape as TypeScript sees it after the schema passed (sizes still unparsed). */
export interface ChapFile { user: string; secret?: string; secretFile?: string }
export interface AuthFile { chap?: ChapFile; mutualChap?: ChapFile }
export interface LunMappingFile { lun: number; device: string; readOnly?: boolean }
export interface GroupFile { name: string; initiators: string[]; luns?: LunMappingFile[]; auth?: AuthFile }
export interface DeviceFile {
  name: string;
  deviceType?: string;
  handler: 'fileio' | 'blockio' | 'nullio' | 'ram' | 'vcdrom' | 'vtape' | 'changer' | 'passthrough' | 'rbd';
  path?: string;
  size?: string | number;
  blockSize?: 512 | 2048 | 4096;
  physicalBlockSize?: 512 | 4096;
  writeCache?: 'writeback' | 'writethrough';
  thin?: boolean;
  readOnly?: boolean;
  removable?: boolean;
  serial?: string;
  vendor?: string;
  product?: string;
  revision?: string;
  drives?: string[];
  slots?: number;
  mailSlots?: number;
  cartridges?: Array<{ barcode: string; path: string; slot: number }>;
  state?: string;
  allowVendorCommands?: boolean;
  pool?: string;
  image?: string;
  cephConf?: string;
  cephUser?: string;
  keyring?: string;
  alua?: { tpgs?: 'implicit' | 'explicit' | 'both'; transitionMs?: number; states?: Record<string, string> };
}
export interface TargetFile {
  driver: 'iscsi' | 'local' | 'loopback' | 'fc' | 'fcoe' | 'srp';
  wwn?: string;
  tpgt?: number;
  initiator?: string;
  acls?: Array<{ initiator: string; readOnly?: boolean }>;
  name: string;
  alias?: string;
  enabled?: boolean;
  portals?: string[];
  auth?: AuthFile;
  discoveryAuth?: AuthFile;
  luns?: LunMappingFile[];
  groups?: GroupFile[];
  portGroups?: Array<{ id: number; portals: string[]; gateway?: string }>;
}

let compiled: ValidateFunction | undefined;

/** The compiled validator (built once; ajv compilation is the slow part). */
export function topologyValidator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
    compiled = ajv.compile(topologyFileSchema);
  }
  return compiled;
}

export type SchemaError = ErrorObject;
