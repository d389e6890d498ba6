import { z } from 'zod';
import type { AuditEntry } from '../audit/audit-log.js';
import { EVIDENCE_VERSION, type EvidenceBundle } from '../audit/evidence-bundle.js';
import type { VerifyResult } from '../audit/verify.js';
import type { UploadReceipt } from '../crypto/receipt.js';
import type { NamedAccessRequestView } from '../domain/display-names.js';
import type { HoldView } from '../domain/holds.js';
import type { ConsentView } from '../domain/orders.js';
import { ROLES } from '../domain/principal.js';
import type { Completed, ListedRecording, PutChunkResult, UploadStateView } from '../domain/recordings.js';
import type { MeView, SigningKeyView } from '../domain/signing-keys.js';
import { HOLD_REASONS, PURPOSES, REQUEST_STATUSES } from '../domain/vocabulary.js';

/**
 * What the routes answer, for the OpenAPI document. Each schema `satisfies`
 * the domain type it describes, so a field removed or retyped in the domain
 * breaks the build; strict objects make test/integration/openapi-responses.test.ts
 * fail on a field added to an answer but not here.
 */
const time = z.iso.datetime();
const b64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/)
  .describe('base64url, no padding');
const RECORDING_STATUSES = ['recording', 'sealed', 'incomplete', 'expired'] as const;

/**
 * The body of every refusal and failure (src/http/errors.ts): SPEC's
 * `{ error: { code, message, field? } }`, plus `missing` for chunks_missing.
 * Strict, so an extra field in an error body fails openapi-responses.test.ts.
 */
export const errorResponse = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe('machine-readable, e.g. invalid_input, wrong_role, chunks_missing'),
      message: z.string().describe('for people; never contains a secret'),
      field: z.string().optional().describe('for bad input: the request field that is wrong'),
      missing: z.array(z.number().int()).optional().describe('for chunks_missing: the seqs not stored'),
    }),
  })
  .meta({ id: 'Error' });

export const healthResponse = z.strictObject({ status: z.literal('ok') });
export const readyResponse = z.strictObject({
  status: z.enum(['ready', 'unavailable']),
  checks: z.strictObject({
    database: z.enum(['ok', 'unavailable']),
    storage: z.enum(['ok', 'unavailable']),
    epochKeys: z.enum(['ok', 'unavailable']),
  }),
});

export const principalCreatedResponse = z.strictObject({
  id: z.string(),
  name: z.string(),
  department: z.string(),
  roles: z.array(z.enum(ROLES)),
  token: z.string().describe('shown once; stored only as a hash'),
});
export const meResponse = z.strictObject({
  id: z.string(),
  name: z.string(),
  department: z.string(),
  roles: z.array(z.enum(ROLES)),
  signingKeyId: b64url.optional().describe('the id of the registered signing key, when one is'),
}) satisfies z.ZodType<MeView>;

export const signingKeyResponse = z.strictObject({
  principalId: z.string(),
  publicKey: b64url.describe('Ed25519 public key, 32 bytes'),
  signingKeyId: b64url.describe('base64url of the first 12 bytes of SHA-256(publicKey)'),
  setAt: time,
}) satisfies z.ZodType<SigningKeyView>;

export const principalRevokedResponse = z.strictObject({ id: z.string(), revoked: z.literal(true) });

export const orderCreatedResponse = z.strictObject({
  orderId: z.string(),
  publicKey: b64url.describe("the order's X25519 public key, base64url"),
});

export const consentResponse = z.strictObject({
  id: z.string(),
  orderId: z.string(),
  party: z.enum(['beautician', 'customer']),
  decision: z.enum(['consent', 'object']),
  mode: z.enum(['explicit', 'notified_no_objection']),
  appVersion: z.string(),
  recordedBy: z.string(),
  recordedAt: time,
}) satisfies z.ZodType<ConsentView>;

export const recordingStartedResponse = z.strictObject({ recordingId: z.string(), maxChunkBytes: z.number().int() });

export const chunkResponse = z.strictObject({
  recordingId: z.string(),
  outcome: z.enum(['stored', 'duplicate']),
  seq: z.number().int(),
  size: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
}) satisfies z.ZodType<PutChunkResult & { recordingId: string }>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const uploadStateResponse = z.strictObject({
  recordingId: z.string(),
  status: z.enum(RECORDING_STATUSES),
  storedSeqs: z.array(z.number().int()),
  chunks: z.array(z.strictObject({ seq: z.number().int(), size: z.number().int(), sha256: sha256Hex })),
  incompleteAt: time
    .nullable()
    .describe('while recording: when it becomes incomplete if nothing more arrives; once incomplete: when it did'),
}) satisfies z.ZodType<UploadStateView>;

export const receiptResponse = z
  .strictObject({
    recordingId: z.string(),
    chunkCount: z.number().int(),
    chunksRoot: sha256Hex.describe('RFC 9162 root, leaf i = SHA-256(0x00 || SHA-256(chunk i ciphertext)), hex'),
    sealedAt: time,
    retainUntil: time,
    signature: b64url.describe(
      'Ed25519 by the log key over RFC 8785 JSON of { v: "visit-vault/receipt/v1", recordingId, chunkCount, chunksRoot, sealedAt, retainUntil }',
    ),
  })
  .describe(
    'the upload receipt: verify it with the log key before deleting the phone copy',
  ) satisfies z.ZodType<UploadReceipt>;

export const sealedResponse = z.strictObject({
  recordingId: z.string(),
  status: z.literal('sealed'),
  chunkCount: z.number().int(),
  retainUntil: time,
  receipt: receiptResponse,
}) satisfies z.ZodType<Completed>;

export const holdResponse = z.strictObject({
  id: z.string(),
  orderId: z.string(),
  reason: z.enum(HOLD_REASONS),
  until: time.nullable(),
  note: z.string().nullable(),
  placedBy: z.string(),
  placedAt: time,
  liftedBy: z.string().optional(),
  liftedAt: time.optional(),
}) satisfies z.ZodType<HoldView>;

const recordingMetadata = z.strictObject({
  recordingId: z.string(),
  orderId: z.string(),
  status: z.enum(RECORDING_STATUSES),
  mimeType: z.string(),
  chunkCount: z.number().int().nullable(),
  storedChunks: z.number().int(),
  storedBytes: z.number().int(),
  createdAt: time,
  lastChunkAt: time.nullable(),
  sealedAt: time.nullable(),
  incompleteAt: time.nullable(),
  incompleteReason: z.enum(['silence', 'consent_withdrawn']).nullable(),
  retainUntil: time.nullable(),
  expiredAt: time.nullable(),
  holds: z.array(holdResponse).optional().describe('active holds; not shown to the beautician'),
}) satisfies z.ZodType<ListedRecording>;
export const orderRecordingsResponse = z.strictObject({ orderId: z.string(), recordings: z.array(recordingMetadata) });

export const accessRequestResponse = z.strictObject({
  id: z.string(),
  orderId: z.string(),
  requesterId: z.string(),
  requesterName: z.string().optional().describe("the requester's display name"),
  purpose: z.enum(PURPOSES),
  reason: z.string(),
  ticketRef: z.string(),
  status: z.enum(REQUEST_STATUSES),
  createdAt: time,
  expiresAt: time,
  digest: sha256Hex.describe(
    'SHA-256 (hex) of RFC 8785 JSON of { id, orderId, purpose, reason, ticketRef, requesterId, filedAt (= createdAt), expiresAt }',
  ),
  decisions: z.array(
    z.strictObject({
      deciderId: z.string(),
      deciderName: z.string().optional().describe("the decider's display name"),
      decision: z.enum(['approve', 'reject']),
      countedAs: z.enum(['department_head', 'security_head']),
      comment: z.string(),
      decidedAt: time,
      signature: b64url
        .optional()
        .describe(
          'Ed25519 by the decider over RFC 8785 JSON of { v: "visit-vault/decision/v1", requestId, requestDigest, decision, comment, signerId }; absent only when the vault did not require signatures',
        ),
      signerKeyId: b64url.optional().describe('base64url of the first 12 bytes of SHA-256 of signerPublicKey'),
      signerPublicKey: b64url.optional().describe('the Ed25519 public key the signature verified against'),
    }),
  ),
  approvedAt: time.optional(),
  grantExpiresAt: time.optional().describe('while approved: the requester may play until then'),
  revokedAt: time.optional().describe('when a security head ended the grant'),
  revokedBy: z.string().optional(),
  revokeReason: z.string().optional(),
}) satisfies z.ZodType<NamedAccessRequestView>;
export const accessRequestListResponse = z.strictObject({
  requests: z.array(accessRequestResponse),
  nextAfter: z.string().nullable().describe('pass as `after` for the next page; null on the last'),
  total: z.number().int().describe('how many requests match the filter, over all pages'),
});

/**
 * Any JSON value (audit `details`). Recursive, so it is a named component: its
 * self-references become `#/components/schemas/JsonValue`, which resolve from
 * anywhere in the document (zod's own z.json() renders a local `$defs` that
 * does not survive being embedded in an OpenAPI document).
 */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const jsonValue: z.ZodType<Json> = z
  .lazy(() =>
    z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
  )
  .meta({ id: 'JsonValue', description: 'any JSON value' });
const auditLeaf = z.strictObject({
  id: z.string(),
  at: time,
  actorId: z.string().nullable(),
  action: z.string(),
  outcome: z.enum(['ok', 'refused', 'failed']),
  orderId: z.string().nullable(),
  recordingId: z.string().nullable(),
  details: z.record(z.string(), jsonValue),
});

export const auditPageResponse = z.strictObject({
  entries: z.array(
    auditLeaf.extend({
      index: z.number().int().nullable().describe('the leaf index in the tree; null until sequenced'),
    }),
  ),
  nextAfter: z.string().nullable().describe('pass as `after` for the next page; null on the last'),
  names: z.record(z.string(), z.string()).describe("display names of the page's actors, by id"),
}) satisfies z.ZodType<{ entries: Omit<AuditEntry, 'details'>[] }>;

export const auditVerifyResponse = z.strictObject({
  ok: z.boolean(),
  checked: z.number().int().describe('sequenced entries whose leaf hashes were recomputed'),
  treeSize: z.number().int().describe('size of the newest signed checkpoint'),
  rootHash: z.string().describe('its root hash, hex'),
  firstBrokenId: z.string().optional(),
  reason: z.string().optional().describe('why the check failed'),
}) satisfies z.ZodType<VerifyResult>;

const hexHash = z.string().regex(/^[0-9a-f]{64}$/);

export const logKeyResponse = z.strictObject({
  origin: z.string(),
  publicKey: z.string().describe('Ed25519 public key, base64url'),
  keyId: z.string().describe('C2SP signed-note key id (4 bytes), base64url'),
  verifierKey: z.string().describe('the C2SP verifier key text: origin+hex id+base64(0x01 || key)'),
});

export const inclusionProofResponse = z.strictObject({
  index: z.number().int(),
  treeSize: z.number().int(),
  leafHash: hexHash,
  hashes: z.array(hexHash).describe('RFC 9162 inclusion proof, hex'),
});

export const consistencyProofResponse = z.strictObject({
  from: z.number().int(),
  to: z.number().int(),
  hashes: z.array(hexHash).describe('RFC 9162 consistency proof, hex'),
});

export const evidenceResponse = z
  .strictObject({
    v: z.literal(EVIDENCE_VERSION),
    orderId: z.string(),
    exportedAt: time,
    checkpoint: z.string().describe('the signed checkpoint (C2SP tlog-checkpoint) every proof leads to'),
    entries: z.array(
      z.strictObject({
        index: z.number().int(),
        entry: auditLeaf,
        inclusion: z.array(sha256Hex).describe('RFC 9162 inclusion proof to the checkpoint, hex'),
      }),
    ),
    signingKeys: z
      .array(
        z.strictObject({
          index: z.number().int(),
          entry: auditLeaf,
          inclusion: z.array(sha256Hex),
        }),
      )
      .describe("the log entries that registered each signer's key, proven like entries"),
    recordings: z.array(
      z.strictObject({
        recordingId: z.string(),
        status: z.string(),
        chunks: z.array(z.strictObject({ seq: z.number().int(), size: z.number().int(), sha256: sha256Hex })),
        chunksRoot: sha256Hex.describe("RFC 9162 root over the chunks, as the receipt's chunksRoot"),
        receipt: receiptResponse.nullable(),
      }),
    ),
    accessRequests: z.array(accessRequestResponse),
  })
  .describe(
    'one order, verifiable offline with only the log key (vault evidence verify)',
  ) satisfies z.ZodType<EvidenceBundle>;
const webhook = {
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  createdBy: z.string(),
  createdAt: time,
};
export const webhookResponse = z.strictObject(webhook);
export const webhookCreatedResponse = z.strictObject({
  ...webhook,
  secret: z.string().describe('whsec_…: shown once; kept encrypted under the KEK to sign deliveries'),
});
export const webhookListResponse = z.strictObject({ webhooks: z.array(webhookResponse) });
export const webhookDeliveriesResponse = z.strictObject({
  webhookId: z.string(),
  deliveries: z.array(
    z.strictObject({
      id: z.string(),
      eventId: z.string().describe('the webhook-id header: the same on every retry'),
      eventType: z.string(),
      status: z.enum(['pending', 'delivered', 'failed']),
      createdAt: time,
      nextAttemptAt: time,
      deliveredAt: time.nullable(),
      attempts: z.array(
        z.strictObject({
          at: time,
          statusCode: z.number().int().nullable(),
          error: z.string().nullable(),
          durationMs: z.number().int(),
        }),
      ),
    }),
  ),
});
