import { z } from 'zod';
import type { Role } from '../domain/principal.js';
import {
  audioParams,
  audioQuery,
  decisionBody,
  fileRequestBody,
  listRequestsQuery,
  requestParams,
} from './access-request-schemas.js';
import { holdParams, placeHoldBody } from './hold-schemas.js';
import * as answer from './response-schemas.js';
import {
  auditQuery,
  auditVerifyQuery,
  chunkParams,
  completeBody,
  consentBody,
  createOrderBody,
  createPrincipalBody,
  orderParams,
  principalParams,
  recordingParams,
  startRecordingBody,
} from './schemas.js';

/**
 * The API description, generated from the same zod schemas that validate the
 * routes. Every route the app serves must have an entry here: a test walks
 * the Express router and fails on any route missing from this table.
 */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete';
  /** the Express pattern, e.g. /v1/orders/:orderId/recordings */
  path: string;
  summary: string;
  roles: Role[] | 'anyone';
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType | 'octet-stream';
  responses: Record<number, string>;
  /** the JSON body answered with a status, where there is one (src/http/response-schemas.ts) */
  answers?: Partial<Record<number, z.ZodType>>;
}

const ERR = {
  400: 'bad input (names the field)',
  401: 'no or bad token',
  403: 'wrong role or not yours',
  404: 'unknown id',
  503: 'a backing store is down (Retry-After)',
};
const MANAGERS: Role[] = ['department_head', 'security_head'];

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'liveness',
    roles: 'anyone',
    responses: { 200: 'alive' },
    answers: { 200: answer.healthResponse },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'readiness: database and storage reachable',
    roles: 'anyone',
    responses: { 200: 'ready', 503: 'a store is unreachable' },
    answers: { 200: answer.readyResponse, 503: answer.readyResponse },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    roles: 'anyone',
    responses: { 200: 'text exposition format' },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'this document',
    roles: 'anyone',
    responses: { 200: 'OpenAPI 3.1' },
  },
  {
    method: 'post',
    path: '/v1/principals',
    summary: 'create a principal; returns its token once',
    roles: ['admin'],
    body: createPrincipalBody,
    responses: { 201: 'created, with token', 409: 'id taken', ...ERR },
    answers: { 201: answer.principalCreatedResponse },
  },
  {
    method: 'delete',
    path: '/v1/principals/:id',
    summary: 'revoke a principal and all its tokens',
    roles: ['admin'],
    params: principalParams,
    responses: { 200: 'revoked', 409: 'already revoked, or yourself', ...ERR },
    answers: { 200: answer.principalRevokedResponse },
  },
  {
    method: 'post',
    path: '/v1/orders',
    summary: 'register an order and create its key pair',
    roles: ['platform'],
    body: createOrderBody,
    responses: { 201: '{ orderId, publicKey }', 409: 'order exists', ...ERR },
    answers: { 201: answer.orderCreatedResponse },
  },
  {
    method: 'post',
    path: '/v1/orders/:orderId/consents',
    summary: 'record a consent or objection',
    roles: ['platform', 'beautician'],
    params: orderParams,
    body: consentBody,
    responses: { 201: 'the consent', ...ERR },
    answers: { 201: answer.consentResponse },
  },
  {
    method: 'post',
    path: '/v1/orders/:orderId/recordings',
    summary: 'start a recording with its sealed content key',
    roles: ['beautician'],
    params: orderParams,
    body: startRecordingBody,
    responses: { 201: '{ recordingId, maxChunkBytes }', 409: 'consent_required', 410: 'order keys destroyed', ...ERR },
    answers: { 201: answer.recordingStartedResponse },
  },
  {
    method: 'get',
    path: '/v1/orders/:orderId/recordings',
    summary: 'recording metadata (no key material), with holds',
    roles: ['dispute_staff', ...MANAGERS, 'auditor'],
    params: orderParams,
    responses: { 200: 'metadata', ...ERR },
    answers: { 200: answer.orderRecordingsResponse },
  },
  {
    method: 'post',
    path: '/v1/orders/:orderId/holds',
    summary: 'place a retention hold',
    roles: ['platform', 'security_head'],
    params: orderParams,
    body: placeHoldBody,
    responses: { 201: 'the hold', ...ERR },
    answers: { 201: answer.holdResponse },
  },
  {
    method: 'delete',
    path: '/v1/holds/:holdId',
    summary: 'lift a retention hold',
    roles: ['platform', 'security_head'],
    params: holdParams,
    responses: { 200: 'the lifted hold', 409: 'already lifted', ...ERR },
    answers: { 200: answer.holdResponse },
  },
  {
    method: 'put',
    path: '/v1/recordings/:recordingId/chunks/:seq',
    summary: 'upload one encrypted chunk (idempotent per seq)',
    roles: ['beautician'],
    params: chunkParams,
    body: 'octet-stream',
    responses: {
      200: 'same body again',
      201: 'stored',
      409: 'different body under this seq, or recording closed',
      410: 'recording expired',
      413: 'chunk too large',
      415: 'not application/octet-stream',
      ...ERR,
    },
    answers: { 200: answer.chunkResponse, 201: answer.chunkResponse },
  },
  {
    method: 'get',
    path: '/v1/recordings/:recordingId/upload-state',
    summary: 'which seqs are stored, to resume',
    roles: ['beautician'],
    params: recordingParams,
    responses: { 200: '{ status, storedSeqs }', ...ERR },
    answers: { 200: answer.uploadStateResponse },
  },
  {
    method: 'post',
    path: '/v1/recordings/:recordingId/complete',
    summary: 'seal the recording after checking every chunk is there',
    roles: ['beautician'],
    params: recordingParams,
    body: completeBody,
    responses: { 200: '{ status: sealed, retainUntil }', 409: 'chunks_missing (names them)', ...ERR },
    answers: { 200: answer.sealedResponse },
  },
  {
    method: 'post',
    path: '/v1/access-requests',
    summary: 'file an access request',
    roles: ['dispute_staff'],
    body: fileRequestBody,
    responses: { 201: 'the request, pending', 410: 'recordings destroyed', ...ERR },
    answers: { 201: answer.accessRequestResponse },
  },
  {
    method: 'get',
    path: '/v1/access-requests',
    summary: 'list requests (staff: own)',
    roles: ['dispute_staff', ...MANAGERS, 'auditor'],
    query: listRequestsQuery,
    responses: { 200: '{ requests }', ...ERR },
    answers: { 200: answer.accessRequestListResponse },
  },
  {
    method: 'get',
    path: '/v1/access-requests/:id',
    summary: 'read a request with its sign-offs',
    roles: ['dispute_staff', ...MANAGERS, 'auditor'],
    params: requestParams,
    responses: { 200: 'the request', ...ERR },
    answers: { 200: answer.accessRequestResponse },
  },
  {
    method: 'post',
    path: '/v1/access-requests/:id/decisions',
    summary: 'approve or reject',
    roles: MANAGERS,
    params: requestParams,
    body: decisionBody,
    responses: { 200: 'the request', 409: 'decided already / not pending', 410: 'expired', ...ERR },
    answers: { 200: answer.accessRequestResponse },
  },
  {
    method: 'get',
    path: '/v1/access-requests/:id/recordings/:recordingId/audio',
    summary: 'stream decrypted audio (Range on original bytes; mp3/wav/ogg via ffmpeg)',
    roles: ['dispute_staff'],
    params: audioParams,
    query: audioQuery,
    responses: {
      200: 'audio',
      206: 'partial audio',
      410: 'grant or recording expired',
      416: 'range not satisfiable',
      ...ERR,
    },
  },
  {
    method: 'get',
    path: '/v1/audit',
    summary: 'read the audit chain (filter by order, paged)',
    roles: ['auditor', 'security_head'],
    query: auditQuery,
    responses: { 200: '{ entries, nextAfter }', ...ERR },
    answers: { 200: answer.auditPageResponse },
  },
  {
    method: 'get',
    path: '/v1/audit/verify',
    summary:
      'verify the chain end to end; with anchorId+anchorHash (a head kept from an earlier check) also that it was not cut back',
    roles: ['auditor', 'security_head'],
    query: auditVerifyQuery,
    responses: { 200: '{ ok, checked, firstBrokenId?, head?, anchor? }', ...ERR },
    answers: { 200: answer.auditVerifyResponse },
  },
];

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
};

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'input') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

function parameters(where: 'path' | 'query', schema: z.ZodType | undefined): object[] {
  if (!schema) return [];
  const s = jsonSchema(schema) as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    schema: prop,
  }));
}

export const openApiPath = (expressPath: string): string => expressPath.replace(/:([A-Za-z]+)/g, '{$1}');

export function openApiDocument(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const r of ROUTES) {
    const requestBody =
      r.body === undefined
        ? undefined
        : r.body === 'octet-stream'
          ? {
              required: true,
              content: {
                'application/octet-stream': {
                  schema: { type: 'string', contentMediaType: 'application/octet-stream' },
                },
              },
            }
          : { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    const responses = Object.fromEntries(
      Object.entries(r.responses).map(([status, description]) => {
        const answered = r.answers?.[Number(status)];
        if (answered)
          return [status, { description, content: { 'application/json': { schema: jsonSchema(answered, 'output') } } }];
        return [
          status,
          Number(status) >= 400
            ? { description, content: { 'application/json': { schema: ERROR_SCHEMA } } }
            : { description },
        ];
      }),
    );
    const pathItem = paths[openApiPath(r.path)] ?? {};
    paths[openApiPath(r.path)] = pathItem;
    pathItem[r.method] = {
      summary: r.summary,
      description: r.roles === 'anyone' ? 'No token needed.' : `Roles: ${r.roles.join(', ')}.`,
      ...(r.roles === 'anyone' ? { security: [] } : {}),
      parameters: [...parameters('path', r.params), ...parameters('query', r.query)],
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Visit Vault',
      version: '1',
      description: 'Stores phone-encrypted visit audio; unseals it only after two-manager sign-off. See SPEC.md.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
