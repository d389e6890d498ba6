/**
 * @module The few sodium-native functions the server uses (the package ships
 * no types; @types/sodium-native describes an older major version).
 */
declare module 'sodium-native' {
  /** Decrypts `c` into `m` (c.byteLength - 16 bytes); returns the bytes written; throws when it does not authenticate. */
  export function crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    ad: Uint8Array | null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  export function sodium_memzero(buf: Uint8Array): void;
}
