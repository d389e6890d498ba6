import type { LogKey } from '../crypto/log-key.js';
import type { Hash } from '../crypto/merkle.js';
import { type NoteVerifier, signNote, verifyNote } from '../crypto/signed-note.js';

/**
 * @module
 * C2SP tlog-checkpoint: a signed note whose text is the origin line, the tree
 * size in decimal and the base64 root hash, each ending in a newline.
 */
export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Hash;
}

export function checkpointText(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${c.rootHash.toString('base64')}\n`;
}

export function signCheckpoint(key: LogKey, size: number, rootHash: Hash): string {
  return signNote(checkpointText({ origin: key.origin, size, rootHash }), key);
}

export type CheckpointCheck = ({ ok: true } & Checkpoint) | { ok: false; reason: string };

/** Verifies a checkpoint note's signature by the log key, then parses its body. Never throws on bad input. */
export async function openCheckpoint(note: string, verifier: NoteVerifier): Promise<CheckpointCheck> {
  const checked = await verifyNote(note, verifier);
  if (!checked.ok) return checked;
  const lines = checked.text.split('\n');
  // origin, size, root, then optional extension lines; the text ends with a newline.
  if (lines.length < 4) return { ok: false, reason: 'checkpoint has too few lines' };
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin !== verifier.name) return { ok: false, reason: `checkpoint origin ${origin} is not ${verifier.name}` };
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText)))
    return { ok: false, reason: 'checkpoint tree size is not a decimal number' };
  const rootHash = Buffer.from(rootText, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== rootText)
    return { ok: false, reason: 'checkpoint root hash is not 32 bytes of base64' };
  return { ok: true, origin, size: Number(sizeText), rootHash };
}
