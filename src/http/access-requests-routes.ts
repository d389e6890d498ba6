import { pipeline, type Readable } from 'node:stream';
import { type Request, type Response, Router } from 'express';
import type { Logger } from 'pino';
import { decideRequest, fileRequest, listRequestsFor, readRequest, revokeRequest } from '../domain/access-requests.js';
import { contentRange, unsatisfiedRange } from '../domain/byte-ranges.js';
import type { DomainDeps } from '../domain/deps.js';
import { nameRequest, nameRequestPage } from '../domain/display-names.js';
import { authorizePlayback, openPlayback } from '../domain/playback.js';
import type { PlaybackFormat } from '../domain/vocabulary.js';
import { VaultError } from '../errors.js';
import { resolveFfmpeg, startTranscode } from '../media/ffmpeg.js';
import {
  audioParams,
  audioQuery,
  decisionBody,
  fileRequestBody,
  listRequestsQuery,
  requestParams,
  revokeBody,
} from './access-request-schemas.js';
import { requireRole } from './auth.js';
import { jsonBody, params, query } from './validate.js';

const MANAGERS = ['department_head', 'security_head'] as const;
/** Set on audio of a recording that ended without its final chunk (SPEC "Upload integrity and receipts"). */
export const TRUNCATED_HEADER = 'Vault-Recording-Truncated';

export function accessRequestsRoutes(deps: DomainDeps & { logger: Logger }): Router {
  const router = Router();

  router.post('/v1/access-requests', async (req, res) => {
    const actor = requireRole(req, 'dispute_staff');
    res.status(201).json(await nameRequest(deps, await fileRequest(deps, actor, jsonBody(req, fileRequestBody))));
  });

  router.get('/v1/access-requests', async (req, res) => {
    const actor = requireRole(req, 'dispute_staff', ...MANAGERS, 'auditor');
    res.json(await nameRequestPage(deps, await listRequestsFor(deps, actor, query(req, listRequestsQuery))));
  });

  router.get('/v1/access-requests/:id', async (req, res) => {
    const actor = requireRole(req, 'dispute_staff', ...MANAGERS, 'auditor');
    const { id } = params(req, requestParams);
    res.json(await nameRequest(deps, await readRequest(deps, actor, id)));
  });

  router.post('/v1/access-requests/:id/decisions', async (req, res) => {
    const actor = requireRole(req, ...MANAGERS);
    const { id } = params(req, requestParams);
    res.json(await nameRequest(deps, await decideRequest(deps, actor, id, jsonBody(req, decisionBody))));
  });

  router.post('/v1/access-requests/:id/revoke', async (req, res) => {
    const actor = requireRole(req, 'security_head');
    const { id } = params(req, requestParams);
    res.json(await nameRequest(deps, await revokeRequest(deps, actor, id, jsonBody(req, revokeBody))));
  });

  router.get('/v1/access-requests/:id/recordings/:recordingId/audio', async (req, res) => {
    const actor = requireRole(req, 'dispute_staff');
    const { id, recordingId } = params(req, audioParams);
    const { format } = query(req, audioQuery);
    const grant = await authorizePlayback(deps, deps.db, actor, id, recordingId);
    // Checked before anything is decrypted, so a missing ffmpeg costs no key unwrap.
    const ffmpeg = format === 'original' ? null : await resolveFfmpeg(deps.config);
    // Range applies to the original bytes only (RFC 9110: If-Range we cannot validate means the whole body).
    const rangeHeader = format === 'original' && req.get('if-range') === undefined ? req.get('range') : undefined;
    const playback = await openPlayback(deps, actor, grant, { format, rangeHeader });

    res.set('Cache-Control', 'no-store');
    res.set('X-Content-Type-Options', 'nosniff');
    if (playback.kind === 'unsatisfiable') {
      res.set('Content-Range', unsatisfiedRange(playback.total));
      throw new VaultError(
        'range_not_satisfiable',
        'range_not_satisfiable',
        `the Range header names no byte of this recording (${playback.total} bytes)`,
        {
          field: 'range',
        },
      );
    }
    // SPEC: a recording that ended without its final chunk plays its prefix and says so.
    if (playback.truncated) res.set(TRUNCATED_HEADER, 'true');
    if (ffmpeg === null) {
      res.status(playback.range ? 206 : 200);
      res.set({
        'Content-Type': playback.mimeType,
        'Content-Length': String(playback.length),
        'Accept-Ranges': 'bytes',
      });
      if (playback.range) res.set('Content-Range', contentRange(playback.range, playback.total));
      send(req, res, playback.body, format, deps);
      return;
    }
    const transcode = startTranscode(ffmpeg, playback.body, format as Exclude<PlaybackFormat, 'original'>);
    await transcode.started;
    res.status(200).set({ 'Content-Type': transcode.contentType, 'Accept-Ranges': 'none' });
    send(req, res, transcode.output, format, deps);
  });

  return router;
}

/** Streams the body; once headers are out, the only honest signal of a failure is to cut the connection. */
function send(
  req: Request,
  res: Response,
  body: Readable,
  format: PlaybackFormat,
  deps: DomainDeps & { logger: Logger },
): void {
  deps.metrics.playbackStreams.inc({ format });
  if (req.method === 'HEAD') {
    body.destroy();
    res.end();
    return;
  }
  body.on('data', (chunk: Buffer) => deps.metrics.playbackBytes.inc({ format }, chunk.length));
  pipeline(body, res, (err) => {
    if (!err) return;
    res.destroy();
    // A client going away is not a fault; integrity failures are already counted and audited.
    const clientLeft = 'code' in err && err.code === 'ERR_STREAM_PREMATURE_CLOSE';
    if (clientLeft || (err instanceof VaultError && err.kind === 'integrity')) return;
    (req.log ?? deps.logger).warn({ err, path: req.path }, 'audio stream failed after its headers were sent');
  });
}
