// Wire constants of LIO's TCMU ring (linux/target_core_user.h, TCMU_MAILBOX_VERSION 2), spelled
// as in the header so a grep against it works. Every offset below was checked with offsetof()
// against the header: the structures are packed, but the request inside struct tcmu_cmd_entry
// keeps the natural alignment of its __u64 fields (cdb_off at 24, the iovecs at 48).
//
//   the mapping (maps/map0 of the uio device)
//   0               cmdr_off (128)                      cmdr_off + cmdr_size              map size
//   ┌───────────────┬────────────────────────────────────┬──────────────────────────────────┐
//   │ tcmu_mailbox  │ command ring (entries, PAD, TMR)   │ data area (iov_base offsets)     │
//   └───────────────┴────────────────────────────────────┴──────────────────────────────────┘
//
//   struct tcmu_mailbox             struct tcmu_cmd_entry_hdr (8 bytes, every entry)
//     0  u16 version (2)              0  u32 len_op   length (multiple of 8) | op (low 3 bits)
//     2  u16 flags (TCMU_MAILBOX_*)   4  u16 cmd_id   1..65534 for CMD, 0 for PAD
//     4  u32 cmdr_off                 6  u8  kflags
//     8  u32 cmdr_size                7  u8  uflags   TCMU_UFLAG_* (set by user space)
//    12  u32 cmd_head   (kernel)
//    64  u32 cmd_tail   (user)      req (TCMU_OP_CMD, as the kernel wrote it)
//                                     8  u32 iov_cnt    12 u32 iov_bidi_cnt   16 u32 iov_dif_cnt
//   rsp (written by user space)      24  u64 cdb_off (from the mapping's start, inside the entry)
//     8  u8  scsi_status             48  struct iovec[iov_cnt + iov_bidi_cnt]: u64 base, u64 len
//    12  u32 read_len
//    16  u8  sense_buffer[96]       struct tcmu_tmr_entry (TCMU_OP_TMR)
//                                     8  u8  tmr_type   12 u32 cmd_cnt   32 u16 cmd_ids[cmd_cnt]

export const TCMU_MAILBOX_VERSION = 2;

/** struct tcmu_mailbox flags: what the kernel offers. */
export const enum TcmuMailboxFlag {
  /** Out-of-order completions: any command may be completed in the entry at cmd_tail. */
  CAP_OOOC = 1 << 0,
  /** rsp.read_len with TCMU_UFLAG_READ_LEN: a read that returns less than asked (residual). */
  CAP_READ_LEN = 1 << 1,
  /** TMR notifications (configfs attribute tmr_notification=1). */
  CAP_TMR = 1 << 2,
  /** TCMU_UFLAG_KEEP_BUF: user space keeps a command's data buffer after its completion. */
  CAP_KEEP_BUF = 1 << 3,
}

/** enum tcmu_opcode: the low 3 bits of len_op. */
export const enum TcmuOp {
  PAD = 0,
  CMD = 1,
  TMR = 2,
}

export const TCMU_OP_MASK = 0x7;
/** TCMU_OP_ALIGN_SIZE: every entry's length is a multiple of 8. */
export const TCMU_OP_ALIGN_SIZE = 8;
/** TCMU_SENSE_BUFFERSIZE (SCSI_SENSE_BUFFERSIZE). */
export const TCMU_SENSE_BUFFERSIZE = 96;

/** tcmu_cmd_entry_hdr.uflags, set by user space in a completion. */
export const enum TcmuUflag {
  UNKNOWN_OP = 0x1,
  READ_LEN = 0x2,
  KEEP_BUF = 0x4,
}

/** struct tcmu_tmr_entry tmr_type. */
export const enum TcmuTmr {
  UNKNOWN = 0,
  ABORT_TASK = 1,
  ABORT_TASK_SET = 2,
  CLEAR_ACA = 3,
  CLEAR_TASK_SET = 4,
  LUN_RESET = 5,
  TARGET_WARM_RESET = 6,
  TARGET_COLD_RESET = 7,
  /** Pseudo reset after a PERSISTENT RESERVE OUT the kernel handled. */
  LUN_RESET_PRO = 128,
}

/** Byte offsets in struct tcmu_mailbox. */
export const enum Mailbox {
  VERSION = 0,
  FLAGS = 2,
  CMDR_OFF = 4,
  CMDR_SIZE = 8,
  CMD_HEAD = 12,
  CMD_TAIL = 64,
  /** sizeof(struct tcmu_mailbox): cmd_tail sits on its own 64-byte line. */
  SIZE = 128,
}

/** Byte offsets in an entry (header, request, response, TMR). */
export const enum Entry {
  LEN_OP = 0,
  CMD_ID = 4,
  KFLAGS = 6,
  UFLAGS = 7,
  HDR_SIZE = 8,
  REQ_IOV_CNT = 8,
  REQ_IOV_BIDI_CNT = 12,
  REQ_IOV_DIF_CNT = 16,
  REQ_CDB_OFF = 24,
  REQ_IOV = 48,
  IOVEC_SIZE = 16,
  RSP_SCSI_STATUS = 8,
  RSP_READ_LEN = 12,
  RSP_SENSE = 16,
  /** sizeof(struct tcmu_cmd_entry): the smallest CMD entry (room for the response). */
  CMD_MIN_SIZE = 112,
  TMR_TYPE = 8,
  TMR_CMD_CNT = 12,
  TMR_CMD_IDS = 32,
  /** sizeof(struct tcmu_tmr_entry). */
  TMR_MIN_SIZE = 32,
}

// The TCMU generic-netlink family (linux/target_core_user.h; target_core_user.c registers it as
// "TCM-USER", version 2, with one multicast group "config"). The kernel multicasts a device's
// life-cycle events to the group; when it waits for an answer (tcmu_wait_genl_cmd_reply: the
// module-wide flag user space set with TCMU_CMD_SET_FEATURES and the device's
// nl_reply_supported > 0), the configfs write that caused the event blocks until user space
// sends the matching *_DONE command with the device id and a status (0 or -errno).
export const TCMU_GENL_FAMILY_NAME = 'TCM-USER';
export const TCMU_GENL_MCGRP_CONFIG = 'config';
export const TCMU_GENL_VERSION = 2;

/** enum tcmu_genl_cmd. */
export const enum TcmuGenlCmd {
  TCMU_CMD_UNSPEC = 0,
  TCMU_CMD_ADDED_DEVICE = 1,
  TCMU_CMD_REMOVED_DEVICE = 2,
  TCMU_CMD_RECONFIG_DEVICE = 3,
  TCMU_CMD_ADDED_DEVICE_DONE = 4,
  TCMU_CMD_REMOVED_DEVICE_DONE = 5,
  TCMU_CMD_RECONFIG_DEVICE_DONE = 6,
  TCMU_CMD_SET_FEATURES = 7,
}

/** enum tcmu_genl_attr. */
export const enum TcmuGenlAttr {
  TCMU_ATTR_UNSPEC = 0,
  /** NLA_STRING: the uio device's name, tcm-user/<hba>/<device>/<dev_config>. */
  TCMU_ATTR_DEVICE = 1,
  /** NLA_U32: the uio minor (/dev/uio<minor>). */
  TCMU_ATTR_MINOR = 2,
  TCMU_ATTR_PAD = 3,
  /** NLA_STRING: the new dev_config (reconfiguration). */
  TCMU_ATTR_DEV_CFG = 4,
  /** NLA_U64: the new dev_size in bytes (reconfiguration). */
  TCMU_ATTR_DEV_SIZE = 5,
  /** NLA_U8: the new emulate_write_cache (reconfiguration). */
  TCMU_ATTR_WRITECACHE = 6,
  /** NLA_S32: user space's answer, 0 or -errno. */
  TCMU_ATTR_CMD_STATUS = 7,
  /** NLA_U32: the LIO device index the answer is for. */
  TCMU_ATTR_DEVICE_ID = 8,
  /** NLA_U8: SET_FEATURES, user space answers the kernel's events. */
  TCMU_ATTR_SUPP_KERN_CMD_REPLY = 9,
}
