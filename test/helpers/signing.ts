import { generateSigningKey, type SigningKeyPair, signDecision } from '../../src/crypto/decision-signature.js';

/**
 * @module
 * Signed sign-offs for tests: every test that approves or rejects goes through
 * here, as a head's console or CLI would. The first decision of a principal
 * registers a fresh Ed25519 key for it (PUT /v1/me/signing-key); each decision
 * is then signed over the request's digest as read from the vault.
 */

export interface Signer extends SigningKeyPair {
  principalId: string;
  /** false when the vault refused the key (not a head): decisions are still signed, and refused for the role */
  registered: boolean;
}

const signers = new Map<string, Promise<Signer>>();

async function api(baseUrl: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The signer of this token on this vault, registering a new key the first time. */
export function signerFor(baseUrl: string, token: string): Promise<Signer> {
  const cacheKey = `${baseUrl} ${token}`;
  let signer = signers.get(cacheKey);
  if (!signer) {
    signer = (async () => {
      const me = await api(baseUrl, token, 'GET', '/v1/me');
      if (me.status !== 200) throw new Error(`GET /v1/me: ${me.status} ${JSON.stringify(me.body)}`);
      const key = await generateSigningKey();
      const put = await api(baseUrl, token, 'PUT', '/v1/me/signing-key', { publicKey: key.publicKey });
      if (put.status === 409)
        throw new Error(`${String(me.body.id)} already has a signing key this helper did not make`);
      return { ...key, principalId: String(me.body.id), registered: put.status === 201 };
    })();
    signers.set(cacheKey, signer);
    // A failed registration is not cached, so the next call tries again.
    signer.catch(() => signers.delete(cacheKey));
  }
  return signer;
}

/** A digest no request has: used when the signer cannot read the request (the vault refuses before it checks). */
const UNREADABLE_DIGEST = '0'.repeat(64);

export interface DecisionBody {
  decision: 'approve' | 'reject';
  comment: string;
  signature: string;
}

/**
 * The body of a signed decision on `requestId`, as the head holding `token` signs it.
 * `tamper` changes one signed field after signing, for the refusal tests.
 */
export async function signedDecision(
  baseUrl: string,
  token: string,
  requestId: string,
  decision: 'approve' | 'reject',
  comment = 'checked the ticket',
  options: { digest?: string; signerId?: string; seed?: string } = {},
): Promise<DecisionBody> {
  const signer = await signerFor(baseUrl, token);
  let digest = options.digest;
  if (digest === undefined) {
    const read = await api(baseUrl, token, 'GET', `/v1/access-requests/${encodeURIComponent(requestId)}`);
    digest = read.status === 200 ? String(read.body.digest) : UNREADABLE_DIGEST;
  }
  const signature = await signDecision(
    { requestId, requestDigest: digest, decision, comment, signerId: options.signerId ?? signer.principalId },
    options.seed ?? signer.seed,
  );
  return { decision, comment, signature };
}

/** POSTs a signed decision; answers status and body. */
export async function decideSigned(
  baseUrl: string,
  token: string,
  requestId: string,
  decision: 'approve' | 'reject',
  comment = 'checked the ticket',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = await signedDecision(baseUrl, token, requestId, decision, comment);
  return api(baseUrl, token, 'POST', `/v1/access-requests/${encodeURIComponent(requestId)}/decisions`, body);
}
