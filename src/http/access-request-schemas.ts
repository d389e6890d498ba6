import { z } from 'zod';
import { DECISIONS, PLAYBACK_FORMATS, PURPOSES, REQUEST_STATUSES } from '../domain/vocabulary.js';
import { id } from './schemas.js';

/** Request schemas of the access-request and playback routes (strict: unknown fields are bad input). */
export const fileRequestBody = z.strictObject({
  orderId: id,
  purpose: z.enum(PURPOSES),
  reason: z.string().trim().min(1, 'must not be empty').max(2000),
  ticketRef: z.string().trim().min(1, 'must not be empty').max(100),
});

export const decisionBody = z.strictObject({
  decision: z.enum(DECISIONS),
  // A sign-off someone may have to defend later says why.
  comment: z.string().trim().min(1, 'must not be empty').max(2000),
  // Checked by the domain (400 bad_signature, audited), so a malformed one is refused like a wrong one.
  signature: z
    .string()
    .max(200)
    .optional()
    .describe(
      'Ed25519 (base64url) over RFC 8785 JSON of { v: "visit-vault/decision/v1", requestId, requestDigest, decision, comment, signerId }; comment as sent, trimmed',
    ),
});

export const revokeBody = z.strictObject({
  reason: z.string().trim().min(1, 'must not be empty').max(2000),
});

export const requestParams = z.strictObject({ id });
export const audioParams = z.strictObject({ id, recordingId: id });

export const audioQuery = z.strictObject({
  format: z.enum(PLAYBACK_FORMATS).default('original'),
});

export const listRequestsQuery = z.strictObject({
  orderId: id.optional(),
  status: z.enum(REQUEST_STATUSES).optional(),
  awaiting: z.literal('me').optional().describe('only pending requests the caller may still sign'),
  sort: z.enum(['newest', 'deadline']).optional().describe('newest first (default) or nearest deadline first'),
  after: id.optional().describe('the `nextAfter` of the previous page'),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().min(1).max(1000))
    .optional(),
});
