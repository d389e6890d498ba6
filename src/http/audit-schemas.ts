import { z } from 'zod';

/**
 * @module
 * Request schemas of the audit log's routes (src/http/audit-routes.ts).
 */

/** A tree size or leaf index in decimal: no sign, no leading zeros, a safe integer. */
const count = (what: string) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,14})$/, `must be ${what}: a whole number in decimal`)
    .transform(Number);

// A signed note is a few hundred bytes; a checkpoint with many cosignatures stays far below this.
const MAX_NOTE = 8192;

export const auditVerifyQuery = z.strictObject({
  checkpoint: z
    .string()
    .max(MAX_NOTE)
    .optional()
    .describe('an older signed checkpoint kept by the auditor (the note text, URL-encoded)'),
});

export const inclusionParams = z.strictObject({ index: count('a leaf index') });
export const inclusionQuery = z.strictObject({ treeSize: count('a tree size') });
export const consistencyQuery = z.strictObject({ from: count('a tree size'), to: count('a tree size') });
