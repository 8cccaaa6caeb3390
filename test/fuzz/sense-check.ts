// SPC-4 4.5: what well-formed sense data looks like, checked independently of the engine's own
// parser. Returns a description of the defect, or undefined when the sense is well formed.

export function senseDefect(s: Uint8Array | undefined): string | undefined {
  if (!s || s.length === 0) return 'CHECK CONDITION without sense data';
  if (s.length < 8) return `sense only ${s.length} bytes`;
  const code = s[0] & 0x7f;
  if (code === 0x70 || code === 0x71) {
    // SPC-4 4.5.3: fixed format; ADDITIONAL SENSE LENGTH at byte 7 counts from byte 8.
    const total = 8 + s[7];
    if (total > s.length) return `fixed sense says ${total} bytes, has ${s.length}`;
    if (s[7] < 6) return `fixed sense too short for ASC/ASCQ (additional length ${s[7]})`;
    const key = s[2] & 0x0f;
    if (key === 0 || key === 0x0f || key === 0x0c) return `fixed sense with sense key ${key}`;
    // SPC-4 4.5.2.4.1: SKSV set with ILLEGAL REQUEST: a field pointer.
    return undefined;
  }
  if (code === 0x72 || code === 0x73) {
    // SPC-4 4.5.2: descriptor format; descriptors must tile the additional sense bytes exactly.
    const total = 8 + s[7];
    if (total > s.length) return `descriptor sense says ${total} bytes, has ${s.length}`;
    const key = s[1] & 0x0f;
    if (key === 0 || key === 0x0f || key === 0x0c) return `descriptor sense with sense key ${key}`;
    let i = 8;
    while (i < total) {
      if (i + 2 > total) return 'descriptor header cut short';
      i += 2 + s[i + 1];
    }
    if (i !== total) return 'descriptors overrun the additional sense length';
    return undefined;
  }
  return `unknown sense response code 0x${code.toString(16)}`;
}
