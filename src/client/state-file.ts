import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * @module
 * The phone's small state file: what it needs after the app was killed to
 * find its recording and finish uploading it. No key is in it — the content
 * key lives only in memory and is sealed (to the order's public key) in the
 * vault, which the phone can never open — so a stolen or backed-up file
 * reveals nothing of the audio. Written atomically (temp file, fsync, rename,
 * fsync of the directory), so a kill at any moment leaves the old or the new
 * state, never half of one.
 */
export const uploadStateFileSchema = z.strictObject({
  v: z.literal(1),
  orderId: z.string().min(1),
  recordingId: z.string().min(1),
  mimeType: z.string().min(1),
  /** chunks 0..nextSeq-1 are encrypted and spooled beside this file */
  nextSeq: z.number().int().nonnegative(),
  /** the seq of the final chunk once the recording ended, else null */
  finalSeq: z.number().int().nonnegative().nullable(),
});
export type UploadStateFile = z.infer<typeof uploadStateFileSchema>;

export class StateFileError extends Error {
  override name = 'StateFileError';
}

/** Writes bytes so that the file holds either its old content or all of the new, across a crash or a kill. */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export async function writeStateFile(file: string, state: UploadStateFile): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(state)}\n`);
}

/** The state, or null when there is no file; a file that is not a valid state is an error, never ignored. */
export async function readStateFile(file: string): Promise<UploadStateFile | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StateFileError(`${file} is not JSON`);
  }
  const parsed = uploadStateFileSchema.safeParse(json);
  if (!parsed.success)
    throw new StateFileError(`${file} is not an upload state file: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export async function removeStateFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
