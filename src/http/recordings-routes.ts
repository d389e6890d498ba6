import express, { Router } from 'express';
import type { DomainDeps } from '../domain/deps.js';
import { completeRecording, putChunk, uploadState } from '../domain/recordings.js';
import { badRequest, VaultError } from '../errors.js';
import { requireRole } from './auth.js';
import { CONTENT_DIGEST, claimedSha256 } from './content-digest.js';
import { chunkParams, completeBody, recordingParams } from './schemas.js';
import { jsonBody, params } from './validate.js';

export function recordingsRoutes(deps: DomainDeps): Router {
  const router = Router();
  // Chunks are bounded (VAULT_MAX_CHUNK_BYTES), so one is read whole to hash it before it is stored.
  const rawChunk = express.raw({ type: 'application/octet-stream', limit: deps.config.maxChunkBytes });

  router.put('/v1/recordings/:recordingId/chunks/:seq', rawChunk, async (req, res) => {
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
    const result = await putChunk(deps, actor, recordingId, seq, req.body, { expectedSha256 });
    timer();
    res.status(result.outcome === 'stored' ? 201 : 200).json({ recordingId, ...result });
  });

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
