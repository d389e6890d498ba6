import { z } from 'zod';
import {
  decisionSignatureValid,
  parseSigningPublicKey,
  requestDigest,
  signingKeyId,
} from '../crypto/decision-signature.js';
import { verifyInclusion } from '../crypto/merkle.js';
import { chunksRoot, receiptSignatureValid } from '../crypto/receipt.js';
import { type NoteVerifier, parseVerifierKey } from '../crypto/signed-note.js';
import { fromBase64Url } from '../crypto/sodium.js';
import type { JsonValue } from '../json.js';
import { type AuditLeaf, auditLeafHash } from './audit-log.js';
import { openCheckpoint } from './checkpoint.js';
import { EVIDENCE_VERSION } from './evidence-bundle.js';

/**
 * @module
 * Verifies an evidence bundle offline, with only the log's public key: no
 * server, no database. Every claim in the bundle must lead back to a leaf
 * proven to be in the one signed checkpoint:
 *   - each entry's inclusion proof to the checkpoint's root;
 *   - each recording's chunk manifest to its Merkle root, that root to the
 *     proven `recording.sealed` entry (and to the signed receipt), and each
 *     chunk to its proven `chunk.stored` entry;
 *   - each access request to its proven `access_request.filed` entry and its
 *     digest; each decision to a proven `access_request.decided` entry, its
 *     Ed25519 signature over the request's digest, and the signer's key to
 *     a proven `principal.signing_key_set` entry logged before the decision.
 */
const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);
const leafSchema = z.strictObject({
  id: z.string(),
  at: z.string(),
  actorId: z.string().nullable(),
  action: z.string(),
  outcome: z.enum(['ok', 'refused', 'failed']),
  orderId: z.string().nullable(),
  recordingId: z.string().nullable(),
  details: z.record(z.string(), jsonValue),
}) satisfies z.ZodType<AuditLeaf>;

const provenEntry = z.strictObject({ index: z.number().int().min(0), entry: leafSchema, inclusion: z.array(hex32) });

const bundleSchema = z.object({
  v: z.literal(EVIDENCE_VERSION),
  orderId: z.string(),
  exportedAt: z.string(),
  checkpoint: z.string(),
  entries: z.array(provenEntry),
  signingKeys: z.array(provenEntry),
  recordings: z.array(
    z.object({
      recordingId: z.string(),
      status: z.string(),
      chunks: z.array(z.strictObject({ seq: z.number().int(), size: z.number().int(), sha256: hex32 })),
      chunksRoot: hex32,
      receipt: z
        .strictObject({
          recordingId: z.string(),
          chunkCount: z.number().int(),
          chunksRoot: hex32,
          sealedAt: z.string(),
          retainUntil: z.string(),
          signature: z.string(),
        })
        .nullable(),
    }),
  ),
  accessRequests: z.array(
    z.looseObject({
      id: z.string(),
      orderId: z.string(),
      requesterId: z.string(),
      purpose: z.string(),
      reason: z.string(),
      ticketRef: z.string(),
      createdAt: z.string(),
      expiresAt: z.string(),
      digest: z.string(),
      decisions: z.array(
        z.looseObject({
          deciderId: z.string(),
          decision: z.enum(['approve', 'reject']),
          comment: z.string(),
          countedAs: z.string(),
          signature: z.string().optional(),
          signerKeyId: z.string().optional(),
          signerPublicKey: z.string().optional(),
        }),
      ),
    }),
  ),
});

export type EvidenceCheck =
  | { ok: true; treeSize: number; entries: number; recordings: number; chunks: number; accessRequests: number }
  | { ok: false; failures: string[] };

/** The log's public key: the C2SP verifier key text, or the raw Ed25519 key (base64url) named by the checkpoint's origin. */
export function logVerifierFrom(keyText: string, checkpoint: string): NoteVerifier | null {
  const vkey = parseVerifierKey(keyText);
  if (vkey) return vkey;
  const raw = fromBase64Url(keyText.trim());
  if (raw?.length !== 32) return null;
  return { name: checkpoint.split('\n', 1)[0] ?? '', publicKey: raw };
}

type Request = z.infer<typeof bundleSchema>['accessRequests'][number];
type Decision = Request['decisions'][number];

export interface EvidenceOptions {
  /** accept sign-offs without a signature (a vault run with VAULT_REQUIRE_SIGNED_DECISIONS=false) */
  allowUnsigned?: boolean;
}

/**
 * A signed sign-off: the signature by the key the decision names over this
 * request's digest, and that key registered for that signer in the log
 * before the decision was logged.
 */
async function signOffProblems(
  what: string,
  req: Request,
  d: Decision,
  logged: (AuditLeaf & { index: number }) | undefined,
  keyEntries: readonly (AuditLeaf & { index: number })[],
  options: EvidenceOptions,
): Promise<string[]> {
  const who = `${what}: the ${d.decision} by ${d.deciderId}`;
  if (!d.signature || !d.signerPublicKey) return options.allowUnsigned ? [] : [`${who} is not signed`];
  const problems: string[] = [];
  const message = {
    requestId: req.id,
    requestDigest: requestDigest({ ...req, filedAt: req.createdAt }),
    decision: d.decision,
    comment: d.comment,
    signerId: d.deciderId,
  };
  if (!(await decisionSignatureValid(message, d.signature, d.signerPublicKey)))
    problems.push(`${who}: its signature does not verify`);
  const key = parseSigningPublicKey(d.signerPublicKey);
  if (!key || d.signerKeyId !== signingKeyId(key)) problems.push(`${who}: its key id is not its key's`);
  const registered = keyEntries.find(
    (e) =>
      e.details.principalId === d.deciderId &&
      e.details.publicKey === d.signerPublicKey &&
      (!logged || e.index < logged.index),
  );
  if (!registered) problems.push(`${who}: its key was not registered for ${d.deciderId} in the log before it`);
  return problems;
}

export async function verifyEvidence(
  bundleJson: unknown,
  keyText: string,
  options: EvidenceOptions = {},
): Promise<EvidenceCheck> {
  const parsed = bundleSchema.safeParse(bundleJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, failures: [`not an evidence bundle: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`] };
  }
  const b = parsed.data;
  const verifier = logVerifierFrom(keyText, b.checkpoint);
  if (!verifier) return { ok: false, failures: ['the key is neither a C2SP verifier key nor a base64url Ed25519 key'] };
  const cp = await openCheckpoint(b.checkpoint, verifier);
  if (!cp.ok) return { ok: false, failures: [`checkpoint: ${cp.reason}`] };

  const failures: string[] = [];
  const seen = new Set<number>();
  /** The entries whose inclusion proofs lead to the checkpoint's root, with their indexes. */
  const prove = (list: typeof b.entries, ofOrder: boolean): (AuditLeaf & { index: number })[] => {
    const out: (AuditLeaf & { index: number })[] = [];
    for (const { index, entry, inclusion } of list) {
      const what = `entry ${entry.id} (index ${index})`;
      if (ofOrder && entry.orderId !== b.orderId)
        failures.push(`${what}: belongs to order ${entry.orderId}, not ${b.orderId}`);
      if (seen.has(index)) failures.push(`${what}: index given twice`);
      seen.add(index);
      const proof = inclusion.map((h) => Buffer.from(h, 'hex'));
      if (!verifyInclusion(auditLeafHash(entry), index, cp.size, proof, cp.rootHash))
        failures.push(`${what}: its inclusion proof does not lead to the checkpoint's root`);
      else out.push({ ...entry, index });
    }
    return out;
  };
  const proven = prove(b.entries, true);
  const keyEntries = prove(b.signingKeys, false).filter((e) => e.action === 'principal.signing_key_set');
  const provenWith = (action: string, match: (e: AuditLeaf) => boolean) =>
    proven.find((e) => e.action === action && match(e));

  let chunkCount = 0;
  for (const rec of b.recordings) {
    const what = `recording ${rec.recordingId}`;
    chunkCount += rec.chunks.length;
    const root = chunksRoot(rec.chunks.map((c) => c.sha256));
    if (root !== rec.chunksRoot) failures.push(`${what}: its chunks do not make its chunksRoot`);
    rec.chunks.forEach((c, i) => {
      if (c.seq !== i) failures.push(`${what}: chunk ${i} is listed as seq ${c.seq}`);
      const stored = provenWith('chunk.stored', (e) => e.recordingId === rec.recordingId && e.details.seq === c.seq);
      if (!stored) failures.push(`${what}: chunk ${c.seq} has no proven chunk.stored entry`);
      else if (stored.details.sha256 !== c.sha256 || stored.details.size !== c.size)
        failures.push(`${what}: chunk ${c.seq} differs from its chunk.stored entry`);
    });
    const sealed = provenWith('recording.sealed', (e) => e.recordingId === rec.recordingId);
    if (sealed) {
      if (sealed.details.chunksRoot !== root) failures.push(`${what}: the sealed entry names another chunksRoot`);
      if (sealed.details.chunkCount !== rec.chunks.length)
        failures.push(`${what}: the sealed entry names ${String(sealed.details.chunkCount)} chunks`);
    } else if (rec.status === 'sealed') failures.push(`${what}: sealed, but no proven recording.sealed entry`);
    if (rec.receipt) {
      if (rec.receipt.recordingId !== rec.recordingId || rec.receipt.chunksRoot !== root)
        failures.push(`${what}: the receipt names another recording or chunksRoot`);
      if (!(await receiptSignatureValid(rec.receipt, verifier.publicKey)))
        failures.push(`${what}: the receipt's signature does not verify with the log key`);
    }
  }

  for (const req of b.accessRequests) {
    const what = `access request ${req.id}`;
    if (req.orderId !== b.orderId) failures.push(`${what}: belongs to order ${req.orderId}`);
    const digest = requestDigest({ ...req, filedAt: req.createdAt });
    if (digest !== req.digest) failures.push(`${what}: its digest is not the digest of its fields`);
    const filed = provenWith('access_request.filed', (e) => e.details.requestId === req.id);
    if (!filed) failures.push(`${what}: no proven access_request.filed entry`);
    else {
      if (filed.actorId !== req.requesterId)
        failures.push(`${what}: filed by ${filed.actorId}, not ${req.requesterId}`);
      for (const field of ['purpose', 'reason', 'ticketRef', 'expiresAt'] as const)
        if (filed.details[field] !== req[field]) failures.push(`${what}: its ${field} differs from the filed entry`);
    }
    for (const d of req.decisions) {
      const logged = provenWith(
        'access_request.decided',
        (e) =>
          e.details.requestId === req.id &&
          e.actorId === d.deciderId &&
          e.details.decision === d.decision &&
          e.details.comment === d.comment &&
          e.details.countedAs === d.countedAs,
      );
      if (!logged) failures.push(`${what}: the ${d.decision} by ${d.deciderId} has no proven decision entry`);
      failures.push(...(await signOffProblems(what, req, d, logged, keyEntries, options)));
    }
  }

  if (failures.length > 0) return { ok: false, failures };
  return {
    ok: true,
    treeSize: cp.size,
    entries: proven.length,
    recordings: b.recordings.length,
    chunks: chunkCount,
    accessRequests: b.accessRequests.length,
  };
}
