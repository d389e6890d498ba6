import type { VaultApi } from './api.js';
import type { Me } from './api-types.js';
import type { DecisionPayload } from './canonical.js';
import { loadKey, makeKey, type StoredKey, saveKey, signDecision } from './signing.js';

/** This browser holds no key for the key the vault has registered for this head. */
export class KeyMismatchError extends Error {
  constructor(readonly registeredKeyId: string) {
    super(
      `Your sign-offs are bound to signing key ${registeredKeyId}, which this browser does not hold ` +
        '(it was made in another browser or profile, or this one was cleared). Ask an administrator to clear ' +
        'your old signing key; this browser then registers a new one at your next sign-off.',
    );
    this.name = 'KeyMismatchError';
  }
}

/**
 * Signs a head's decisions with the key of this browser, registering it with
 * the vault on the first sign-off. The vault accepts a key once: a head whose
 * registered key is not here is told to have an admin clear it.
 */
export class Signer {
  constructor(
    private readonly api: () => VaultApi,
    private me: Me,
  ) {}

  /** The key this head signs with here, or the reason it cannot sign; makes and registers none. */
  async state(): Promise<{ kind: 'ready'; keyId: string } | { kind: 'new' } | { kind: 'mismatch'; keyId: string }> {
    const key = await loadKey(this.me.id);
    const registered = this.me.signingKeyId;
    if (registered === undefined) return { kind: 'new' };
    if (key?.keyId === registered) return { kind: 'ready', keyId: registered };
    return { kind: 'mismatch', keyId: registered };
  }

  private async key(): Promise<StoredKey> {
    const stored = await loadKey(this.me.id);
    const registered = this.me.signingKeyId;
    if (registered !== undefined) {
      if (stored?.keyId === registered) return stored;
      throw new KeyMismatchError(registered);
    }
    // Kept before it is registered: a key the vault knows but this browser lost would lock the head out.
    const key = stored ?? (await makeKey(this.me.id));
    if (!stored) await saveKey(key);
    await this.api().registerSigningKey(key.publicKey);
    this.me = await this.api().me();
    if (this.me.signingKeyId === undefined) throw new Error('the vault registered the key but names no key id');
    const registeredKey = { ...key, keyId: this.me.signingKeyId };
    await saveKey(registeredKey);
    return registeredKey;
  }

  async sign(payload: Omit<DecisionPayload, 'signerId'>): Promise<string> {
    return signDecision(await this.key(), { ...payload, signerId: this.me.id });
  }
}
