import { ED25519_ALG, type LogKey, noteKeyId, verifyEd25519 } from './log-key.js';

/**
 * @module
 * C2SP signed-note: a UTF-8 text ending in a newline, an empty line, then one
 * line per signature: `— <key name> <base64(4-byte key id || signature)>`.
 * The signature covers the text (with its final newline), nothing else.
 */
const EM_DASH = '\u2014';

export function signNote(text: string, key: LogKey): string {
  if (!text.endsWith('\n')) throw new Error('a note text ends with a newline');
  const signature = key.sign(Buffer.from(text, 'utf8'));
  const blob = Buffer.concat([key.keyId, signature]).toString('base64');
  return `${text}\n${EM_DASH} ${key.origin} ${blob}\n`;
}

/** A public key to check notes with: its name (the origin) and the raw Ed25519 key. */
export interface NoteVerifier {
  name: string;
  publicKey: Uint8Array;
}

/** Parses `<name>+<hex id>+<base64(0x01 || key)>`; null when it is not an Ed25519 verifier key. */
export function parseVerifierKey(vkey: string): NoteVerifier | null {
  const parts = vkey.trim().split('+');
  if (parts.length !== 3) return null;
  const [name, idHex, keyB64] = parts as [string, string, string];
  if (!/^[0-9a-f]{8}$/.test(idHex) || name.length === 0) return null;
  const raw = Buffer.from(keyB64, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519_ALG || raw.toString('base64') !== keyB64) return null;
  const publicKey = new Uint8Array(raw.subarray(1));
  if (Buffer.from(noteKeyId(name, publicKey)).toString('hex') !== idHex) return null;
  return { name, publicKey };
}

export type NoteCheck = { ok: true; text: string } | { ok: false; reason: string };

/** Checks that the note carries a valid signature by this key; returns the signed text. */
export async function verifyNote(note: string, verifier: NoteVerifier): Promise<NoteCheck> {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) return { ok: false, reason: 'not a signed note' };
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  const wantId = Buffer.from(noteKeyId(verifier.name, verifier.publicKey));
  for (const line of lines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return { ok: false, reason: 'malformed signature line' };
    if (m[1] !== verifier.name) continue;
    const blob = Buffer.from(m[2] ?? '', 'base64');
    if (blob.length !== 68 || !blob.subarray(0, 4).equals(wantId)) continue;
    if (await verifyEd25519(blob.subarray(4), Buffer.from(text, 'utf8'), verifier.publicKey)) return { ok: true, text };
    return { ok: false, reason: 'signature does not verify' };
  }
  return { ok: false, reason: `no signature by ${verifier.name}` };
}
