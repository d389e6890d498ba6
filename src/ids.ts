import { getSodium } from './crypto/sodium.js';

/** The one id generator: a prefix and 16 random bytes from libsodium, hex (e.g. `rec_3f2a…`). */
export interface IdGenerator {
  newId(prefix: string): string;
}

export async function createIdGenerator(): Promise<IdGenerator> {
  const sodium = await getSodium();
  return { newId: (prefix) => `${prefix}_${sodium.to_hex(sodium.randombytes_buf(16))}` };
}
