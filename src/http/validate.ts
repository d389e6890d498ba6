import type { Request } from 'express';
import type { z } from 'zod';
import { badRequest, VaultError } from '../errors.js';

/** Turns the first zod issue into a 400 naming the field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
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
