import { type Response, Router } from 'express';
import { consoleAssets } from './console-bundle.js';

/**
 * The console's pages may run their own script, style sheet, same-origin fetches
 * and audio from blob: URLs, nothing else; the API keeps its `default-src 'none'`.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function sendConsoleFile(res: Response, type: string, body: string): void {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'Content-Type': `${type}; charset=utf-8`,
  });
  res.send(body);
}

/** The web console: three static files, public (they hold no data; every call they make takes the user's token). */
export function consoleRoutes(): Router {
  const assets = consoleAssets();
  const router = Router();
  router.get('/console', (_req, res) => sendConsoleFile(res, 'text/html', assets.html));
  router.get('/console/app.js', (_req, res) => sendConsoleFile(res, 'text/javascript', assets.js));
  router.get('/console/styles.css', (_req, res) => sendConsoleFile(res, 'text/css', assets.css));
  return router;
}
