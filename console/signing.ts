import { base64url, type DecisionPayload, decisionBytes } from './canonical.js';

/**
 * A head's signing key lives in this browser only: an Ed25519 key pair made by
 * WebCrypto with a non-extractable private half, kept in IndexedDB (which stores
 * the CryptoKey itself, never its bytes), one per principal. The vault knows the
 * public half (PUT /v1/me/signing-key) and the key id it gave it.
 */
const DB = 'visit-vault';
const STORE = 'signing-keys';

export interface StoredKey {
  principalId: string;
  privateKey: CryptoKey;
  /** base64url raw public key, as registered */
  publicKey: string;
  /** the vault's id for the registered key; null until registered */
  keyId: string | null;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'principalId' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

function isStoredKey(v: unknown): v is StoredKey {
  return (
    typeof v === 'object' &&
    v !== null &&
    'privateKey' in v &&
    v.privateKey instanceof CryptoKey &&
    'publicKey' in v &&
    typeof v.publicKey === 'string'
  );
}

export async function loadKey(principalId: string): Promise<StoredKey | null> {
  const found: unknown = await withStore('readonly', (s) => s.get(principalId));
  return isStoredKey(found) ? found : null;
}

export async function saveKey(key: StoredKey): Promise<void> {
  await withStore('readwrite', (s) => s.put(key));
}

/** A new key pair; the private half can sign but never leave WebCrypto. */
export async function makeKey(principalId: string): Promise<StoredKey> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const raw = await crypto.subtle.exportKey('raw', pair.publicKey);
  return { principalId, privateKey: pair.privateKey, publicKey: base64url(raw), keyId: null };
}

/** base64url Ed25519 signature over the decision's canonical JSON. */
export async function signDecision(key: StoredKey, payload: DecisionPayload): Promise<string> {
  const bytes = decisionBytes(payload);
  return base64url(await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, bytes));
}
