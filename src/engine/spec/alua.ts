/**
 * Wire values of asymmetric logical unit access (SPC-4 5.16, 6.37, 6.46).
 */

/** SPC-4 6.37 table 269: the ASYMMETRIC ACCESS STATE field (also SET TARGET PORT GROUPS'). */
export const enum AsymmetricAccessState {
  ACTIVE_OPTIMIZED = 0x0,
  ACTIVE_NON_OPTIMIZED = 0x1,
  STANDBY = 0x2,
  UNAVAILABLE = 0x3,
  LOGICAL_BLOCK_DEPENDENT = 0x4,
  OFFLINE = 0xe,
  TRANSITIONING = 0xf,
}

/** SPC-4 6.6.2 table 143: the TPGS field of standard INQUIRY data (byte 5 bits 5..4). */
export const enum Tpgs {
  NOT_SUPPORTED = 0b00,
  IMPLICIT = 0b01,
  EXPLICIT = 0b10,
  BOTH = 0b11,
}

/** SPC-4 6.37 table 271: the STATUS CODE of a target port group descriptor. */
export const enum TpgStatusCode {
  NO_STATUS = 0x00,
  ALTERED_BY_SET_TARGET_PORT_GROUPS = 0x01,
  ALTERED_BY_IMPLICIT_BEHAVIOR = 0x02,
}

/** SPC-4 6.37 table 267: PARAMETER DATA FORMAT of REPORT TARGET PORT GROUPS (byte 1 bits 7..5). */
export const enum RtpgFormat {
  LENGTH_ONLY = 0b000,
  EXTENDED = 0b001,
}
