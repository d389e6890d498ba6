import { z } from 'zod';
import { fromBase64Url } from '../crypto/sodium.js';
import { ROLES } from '../domain/principal.js';

/**
 * Request schemas: validation at the edge, and the source of the TypeScript
 * types (z.infer) and of the OpenAPI document. Objects are strict: unknown
 * fields are bad input.
 */
export const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'letters, digits and . _ : - only, starting with a letter or digit')
  .refine((v) => !v.includes('..'), 'must not contain ..');

// SPEC: times outside 1970-9999 are bad input (PostgreSQL and Date.toISOString both misbehave beyond them).
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An ISO 8601 time with an offset, from 1970-01-01 to 9999-12-31 (UTC) inclusive. */
export const isoTime = z.iso.datetime({ offset: true }).refine((v) => {
  const t = Date.parse(v);
  return Number.isFinite(t) && t >= EARLIEST && t <= LATEST;
}, 'must be a time from 1970-01-01 to 9999-12-31 (UTC)');

export const base64Url = (bytes: number) =>
  z
    .string()
    .max(4 * bytes)
    .refine((v) => fromBase64Url(v)?.length === bytes, `must be ${bytes} bytes, base64url without padding`);

export const createPrincipalBody = z.strictObject({
  id,
  name: z.string().trim().min(1).max(200),
  department: z.string().trim().min(1).max(100),
  roles: z
    .array(z.enum(ROLES))
    .min(1)
    .max(ROLES.length)
    .refine((r) => new Set(r).size === r.length, 'roles must not repeat'),
});

export const signingKeyBody = z.strictObject({
  publicKey: base64Url(32).describe('Ed25519 public key, 32 bytes, base64url without padding'),
});

export const createOrderBody = z.strictObject({
  orderId: id,
  beauticianId: id,
  customerId: id,
  scheduledAt: isoTime,
});

export const consentBody = z.strictObject({
  party: z.enum(['beautician', 'customer']),
  decision: z.enum(['consent', 'object']),
  mode: z.enum(['explicit', 'notified_no_objection']),
  appVersion: z.string().trim().min(1).max(64),
});

export const startRecordingBody = z.strictObject({
  sealedContentKey: base64Url(80),
  mimeType: z
    .string()
    .max(100)
    .regex(/^audio\/[a-z0-9.+-]+(\s*;\s*[a-z0-9-]+=[A-Za-z0-9.,"+-]+)*$/i, 'must be an audio/* media type'),
});

export const completeBody = z.strictObject({
  chunkCount: z.number().int().min(1).max(1_000_000),
});

/** Decimal seq in the path: 0..999999, no sign, no leading zeros. */
export const seq = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,5})$/, 'must be a whole number from 0 to 999999')
  .transform(Number);

export const orderParams = z.strictObject({ orderId: id });
export const recordingParams = z.strictObject({ recordingId: id });
export const chunkParams = z.strictObject({ recordingId: id, seq });
export const principalParams = z.strictObject({ id });

export const auditQuery = z.strictObject({
  orderId: id.optional(),
  after: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'must be an entry id')
    .transform(Number)
    .optional(),
  limit: z
    .string()
    .regex(/^[0-9]{1,4}$/)
    .transform(Number)
    .pipe(z.number().min(1).max(1000))
    .optional(),
});
