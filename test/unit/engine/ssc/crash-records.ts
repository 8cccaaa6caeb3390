/**
 * The k-th logical object the crash child writes (from 0): a filemark every tenth, else a block
 * of 1..8000 bytes whose content names k, so a block read back says which one it is.
 */
export function recordOf(k: number): Buffer | 'filemark' {
  if (k % 10 === 9) return 'filemark';
  const b = Buffer.alloc(1 + ((k * 7919) % 8000));
  for (let i = 0; i < b.length; i++) b[i] = (k * 31 + i) & 0xff;
  return b;
}
