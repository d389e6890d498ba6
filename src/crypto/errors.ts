/** Typed crypto failures. Messages never carry key material or plaintext. */
export class ChunkIntegrityError extends Error {
  override name = 'ChunkIntegrityError';
}

/** The KEK version a wrap needs is not configured. */
export class KeyUnavailableError extends Error {
  override name = 'KeyUnavailableError';
  constructor(readonly kekVersion: number) {
    super(`KEK version ${kekVersion} is not configured`);
  }
}

/** A wrapped key or sealed key that does not authenticate. */
export class KeyIntegrityError extends Error {
  override name = 'KeyIntegrityError';
}
