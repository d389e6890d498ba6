import express, { type Request, type RequestHandler, Router } from 'express';
import type { DomainDeps } from '../domain/deps.js';
import { authenticate as authenticatePrincipal } from '../domain/principals.js';
import {
  authenticateUpload,
  completeRecording,
  putChunk,
  type UploadAuthorization,
  uploadState,
} from '../domain/recordings.js';
import { badRequest, VaultError } from '../errors.js';
import { bearerToken, refuseAuthentication, requireRole } from './auth.js';
import { CONTENT_DIGEST, claimedSha256 } from './content-digest.js';
import { chunkParams, completeBody, recordingParams } from './schemas.js';
import { jsonBody, params } from './validate.js';

/**
 * The chunk PUT, mounted before the general authentication: the hot path of
 * ingest authenticates the token and reads the recording, its owner and what
 * the seq holds in one query (authenticateUpload) instead of two.
 */
export function chunkUploadRoutes(deps: DomainDeps, onAuthFailure?: RequestHandler): Router {
  const router = Router();
  // Chunks are bounded (VAULT_MAX_CHUNK_BYTES), so one is read whole to hash it before it is stored.
  const rawChunk = express.raw({ type: 'application/octet-stream', limit: deps.config.maxChunkBytes });
  const authorized = new WeakMap<Request, UploadAuthorization>();

  const authenticate: RequestHandler = async (req, res, next) => {
    const token = bearerToken(req);
    if (!token) return refuseAuthentication(req, res, next, onAuthFailure);
    const parsed = chunkParams.safeParse(req.params);
    if (!parsed.success) {
      // As on every route: 401 for a bad token before 400 for a bad path.
      const principal = await authenticatePrincipal(deps, token);
      if (!principal) return refuseAuthentication(req, res, next, onAuthFailure);
      req.principal = principal;
      params(req, chunkParams);
      return next();
    }
    const found = await authenticateUpload(deps, token, parsed.data.recordingId, parsed.data.seq);
    if (!found) return refuseAuthentication(req, res, next, onAuthFailure);
    req.principal = found.principal;
    authorized.set(req, found);
    next();
  };

  router.put('/v1/recordings/:recordingId/chunks/:seq', authenticate, rawChunk, async (req, res) => {
    const actor = requireRole(req, 'beautician');
    const { recordingId, seq } = params(req, chunkParams);
    if (!req.is('application/octet-stream')) {
      throw new VaultError(
        'unsupported_media_type',
        'unsupported_media_type',
        'a chunk must be sent as application/octet-stream',
        { field: 'content-type' },
      );
    }
    if (!Buffer.isBuffer(req.body) || req.body.length === 0)
      throw badRequest('body', 'the chunk body is empty', 'invalid_chunk');
    const expectedSha256 = claimedSha256(req.get(CONTENT_DIGEST));
    const timer = deps.metrics.chunkUploadSeconds.startTimer();
    const result = await putChunk(deps, actor, recordingId, seq, req.body, {
      expectedSha256,
      authorized: authorized.get(req),
    });
    timer();
    res.status(result.outcome === 'stored' ? 201 : 200).json({ recordingId, ...result });
  });
  return router;
}

export function recordingsRoutes(deps: DomainDeps): Router {
  const router = Router();

  router.get('/v1/recordings/:recordingId/upload-state', async (req, res) => {
    const actor = requireRole(req, 'beautician');
    const { recordingId } = params(req, recordingParams);
    res.json(await uploadState(deps, actor, recordingId));
  });

  router.post('/v1/recordings/:recordingId/complete', async (req, res) => {
    const actor = requireRole(req, 'beautician');
    const { recordingId } = params(req, recordingParams);
    const { chunkCount } = jsonBody(req, completeBody);
    res.json(await completeRecording(deps, actor, recordingId, chunkCount));
  });

  return router;
}
