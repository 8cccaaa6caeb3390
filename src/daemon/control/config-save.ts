// config.save: the running topology written to the topology file so that a crash at any moment
// leaves either the old file or the new one, never a mix (write a temporary file in the same
// directory, fsync it, rename it over the file, fsync the directory so the rename is durable).
// The previous file is kept as <file>.bak. The file holds CHAP secrets as they were given: it is
// created with mode 0600, or keeps the mode the previous file had.

import { promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';

/** Writes `document` as JSON to `file` atomically; resolves with the bytes written. */
export async function saveTopologyFile(file: string, document: object): Promise<number> {
  const text = JSON.stringify(document, null, 2) + '\n';
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  let mode = 0o600;
  let existed = true;
  try {
    mode = (await fs.stat(file)).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    existed = false;
  }
  const h = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC, mode);
  try {
    await h.writeFile(text, 'utf8');
    await h.sync();
  } catch (e) {
    await h.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await h.close();
  try {
    if (existed) await fs.copyFile(file, `${file}.bak`);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  const d = await fs.open(dir, fsConstants.O_RDONLY);
  try { await d.sync(); } finally { await d.close(); }
  return Buffer.byteLength(text);
}
