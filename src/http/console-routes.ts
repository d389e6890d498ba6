import { type Response, Router } from 'express';
import { consoleAssets } from './console-bundle.js';

/**
 * The console's pages may run their own script and service worker, load their
 * style sheet, make same-origin fetches and play same-origin audio (streamed
 * through the service worker) or blob: audio (the fallback), nothing else; the
 * API keeps its `default-src 'none'`.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function sendConsoleFile(res: Response, type: string, body: string, extra: Record<string, string> = {}): void {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'Content-Type': `${type}; charset=utf-8`,
    ...extra,
  });
  res.send(body);
}

/** The web console: static files, public (they hold no data; every call they make takes the user's token). */
export function consoleRoutes(): Router {
  const assets = consoleAssets();
  const router = Router();
  router.get('/console', (_req, res) => sendConsoleFile(res, 'text/html', assets.html));
  router.get('/console/app.js', (_req, res) => sendConsoleFile(res, 'text/javascript', assets.js));
  router.get('/console/styles.css', (_req, res) => sendConsoleFile(res, 'text/css', assets.css));
  // The worker lives under /console/ but serves the page /console itself, hence the wider allowed scope.
  router.get('/console/sw.js', (_req, res) =>
    sendConsoleFile(res, 'text/javascript', assets.sw, { 'Service-Worker-Allowed': '/console' }),
  );
  // Browsers ask for /favicon.ico on their own; an SVG answers it (every current browser draws one).
  router.get('/favicon.ico', (_req, res) => sendConsoleFile(res, 'image/svg+xml', assets.favicon));
  return router;
}
