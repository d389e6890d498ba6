import type { Request } from 'express';
import type { z } from 'zod';
import { badRequest, VaultError } from '../errors.js';
import { textFault } from '../text.js';

/**
 * The first string anywhere in a parsed body, path or query that no store can
 * keep (NUL, an unpaired surrogate), with its field path. Checked before any
 * schema, for every route at once: PostgreSQL refuses such text, and a refusal
 * that reached the database would be a 500 instead of the 400 it is.
 */
function badText(value: unknown, path: string[], depth = 0): { field: string[]; why: string } | null {
  if (typeof value === 'string') {
    const why = textFault(value);
    return why ? { field: path, why } : null;
  }
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  for (const [key, inner] of Object.entries(value)) {
    const keyFault = textFault(key);
    if (keyFault) return { field: path, why: `a field name ${keyFault}` };
    const found = badText(inner, [...path, key], depth + 1);
    if (found) return found;
  }
  return null;
}

/** Turns the first zod issue into a 400 naming the field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const unstorable = badText(value, []);
  if (unstorable) {
    const field = unstorable.field.length > 0 ? unstorable.field.join('.') : where;
    throw badRequest(field, `${field}: ${unstorable.why}`, 'invalid_text');
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const keys = issue?.code === 'unrecognized_keys' ? issue.keys : [];
  const pathParts = [...(issue?.path ?? []), ...keys.slice(0, 1)].map(String);
  const field = pathParts.length > 0 ? pathParts.join('.') : where;
  const message =
    issue?.code === 'unrecognized_keys' ? `unknown field '${field}'` : `${field}: ${issue?.message ?? 'invalid'}`;
  throw badRequest(field, message);
}

/** A JSON body, parsed by express.json() only when Content-Type says JSON. */
export function jsonBody<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  if (!req.is('application/json')) {
    throw new VaultError('unsupported_media_type', 'unsupported_media_type', 'the body must be application/json', {
      field: 'content-type',
    });
  }
  return parseWith(schema, req.body, 'body');
}

export function params<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  return parseWith(schema, req.params, 'path');
}

export function query<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  return parseWith(schema, req.query, 'query');
}
