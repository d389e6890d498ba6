/**
 * The authorization matrix: every route × every actor → expected status.
 * `own`/`other` mean the actor's own order, recording or request versus
 * someone else's; `Same`/`Other` department for department heads.
 * Actors not listed on a /v1 route expect 403 (401 without a token); the
 * public routes answer everyone. Adding a route without a row fails the test.
 */
export const ACTORS = [
  'none',
  'admin',
  'platform',
  'beauticianOwn',
  'beauticianOther',
  'staffOwn',
  'staffOther',
  'deptHeadSame',
  'deptHeadOther',
  'securityHead',
  'auditor',
] as const;
export type Actor = (typeof ACTORS)[number];

export interface MatrixRow {
  route: string;
  /** actors that get something other than 403/401, with the status they get */
  allowed: Partial<Record<Actor, number>>;
  /** public routes answer every actor, with or without a token */
  public?: boolean;
}

const MANAGERS_AND_STAFF = {
  staffOwn: 200,
  staffOther: 200,
  deptHeadSame: 200,
  deptHeadOther: 200,
  securityHead: 200,
  auditor: 200,
} as const;

export const MATRIX: MatrixRow[] = [
  { route: 'GET /healthz', allowed: {}, public: true },
  { route: 'GET /readyz', allowed: {}, public: true },
  { route: 'GET /metrics', allowed: {}, public: true },
  { route: 'GET /openapi.json', allowed: {}, public: true },
  // The web console's static files hold no data; every call the console makes carries the user's token.
  { route: 'GET /console', allowed: {}, public: true },
  { route: 'GET /console/app.js', allowed: {}, public: true },
  { route: 'GET /console/styles.css', allowed: {}, public: true },
  { route: 'GET /console/sw.js', allowed: {}, public: true },
  { route: 'GET /favicon.ico', allowed: {}, public: true },
  { route: 'POST /v1/principals', allowed: { admin: 201 } },
  { route: 'DELETE /v1/principals/:id', allowed: { admin: 200 } },
  { route: 'DELETE /v1/principals/:id/signing-key', allowed: { admin: 200 } },
  { route: 'POST /v1/webhooks', allowed: { admin: 201 } },
  { route: 'GET /v1/webhooks', allowed: { admin: 200 } },
  { route: 'DELETE /v1/webhooks/:id', allowed: { admin: 200 } },
  { route: 'GET /v1/webhooks/:id/deliveries', allowed: { admin: 200 } },
  {
    route: 'GET /v1/me',
    allowed: {
      admin: 200,
      platform: 200,
      beauticianOwn: 200,
      beauticianOther: 200,
      ...MANAGERS_AND_STAFF,
    },
  },
  // Each head PUTs the key it already registered: answered as set (200), never replaced.
  { route: 'PUT /v1/me/signing-key', allowed: { deptHeadSame: 200, deptHeadOther: 200, securityHead: 200 } },
  { route: 'POST /v1/orders', allowed: { platform: 201 } },
  { route: 'POST /v1/orders/:orderId/consents', allowed: { platform: 201, beauticianOwn: 201 } },
  { route: 'POST /v1/orders/:orderId/recordings', allowed: { beauticianOwn: 201 } },
  // A beautician lists its own order's recordings (to find one to resume), never another's.
  { route: 'GET /v1/orders/:orderId/recordings', allowed: { ...MANAGERS_AND_STAFF, beauticianOwn: 200 } },
  { route: 'POST /v1/orders/:orderId/holds', allowed: { platform: 201, securityHead: 201 } },
  { route: 'DELETE /v1/holds/:holdId', allowed: { platform: 200, securityHead: 200 } },
  { route: 'PUT /v1/recordings/:recordingId/chunks/:seq', allowed: { beauticianOwn: 201 } },
  { route: 'GET /v1/recordings/:recordingId/upload-state', allowed: { beauticianOwn: 200 } },
  { route: 'POST /v1/recordings/:recordingId/complete', allowed: { beauticianOwn: 200 } },
  { route: 'POST /v1/access-requests', allowed: { staffOwn: 201, staffOther: 201 } },
  { route: 'GET /v1/access-requests', allowed: { ...MANAGERS_AND_STAFF } },
  // A request is readable by its requester, heads of the requester's department, security heads and auditors.
  {
    route: 'GET /v1/access-requests/:id',
    allowed: { staffOwn: 200, deptHeadSame: 200, securityHead: 200, auditor: 200 },
  },
  { route: 'POST /v1/access-requests/:id/decisions', allowed: { deptHeadSame: 200, securityHead: 200 } },
  { route: 'POST /v1/access-requests/:id/revoke', allowed: { securityHead: 200 } },
  { route: 'GET /v1/access-requests/:id/recordings/:recordingId/audio', allowed: { staffOwn: 200 } },
  { route: 'GET /v1/audit', allowed: { securityHead: 200, auditor: 200 } },
  { route: 'GET /v1/audit/verify', allowed: { securityHead: 200, auditor: 200 } },
  // The newest checkpoint and the key that signs it are for anyone to check; proofs are for auditors.
  { route: 'GET /v1/audit/checkpoint', allowed: {}, public: true },
  { route: 'GET /v1/audit/log-key', allowed: {}, public: true },
  { route: 'GET /v1/audit/entries/:index/inclusion', allowed: { securityHead: 200, auditor: 200 } },
  { route: 'GET /v1/audit/consistency', allowed: { securityHead: 200, auditor: 200 } },
  { route: 'GET /v1/orders/:orderId/evidence', allowed: { securityHead: 200, auditor: 200 } },
];

export function expectedStatus(row: MatrixRow, actor: Actor): number {
  if (row.public) return 200;
  if (actor === 'none') return 401;
  return row.allowed[actor] ?? 403;
}
