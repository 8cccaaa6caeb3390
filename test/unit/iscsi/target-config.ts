// The target side of negotiation the key tests run against: the shipped settings with RFC 7143's
// conservative choices where the tests exercise them (InitialR2T=Yes, one R2T, FirstBurstLength
// 64 KiB, CRC32C preferred).
import { TargetNegotiationConfig } from '../../../src/transports/iscsi/keys';
import { defaultIscsiSettings, negotiationConfig } from '../../../src/transports/iscsi/settings';

export const TEST_TARGET_CONFIG: TargetNegotiationConfig = Object.freeze(negotiationConfig({
  ...defaultIscsiSettings(),
  initialR2T: true,
  maxOutstandingR2T: 1,
  firstBurstLength: 65536,
  headerDigest: ['CRC32C', 'None'],
  dataDigest: ['CRC32C', 'None'],
}));
