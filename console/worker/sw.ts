/**
 * The console's service worker: lets <audio> stream a recording (and seek with
 * Range) although the element cannot send an Authorization header. For a GET of
 * an audio URL made by a console page, it asks that page (over a MessageChannel)
 * for the token and repeats the request with the header. It keeps no token
 * between requests, writes none to any URL, cache or storage, and touches no
 * other request. Served as /console/sw.js with the console's scope.
 */
export {};

declare const self: ServiceWorkerGlobalScope;

const AUDIO = /^\/v1\/access-requests\/[^/]+\/recordings\/[^/]+\/audio$/;
const ASK_TIMEOUT_MS = 5000;

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !AUDIO.test(url.pathname)) return;
  if (event.request.headers.has('authorization')) return;
  event.respondWith(withToken(event.request, event.clientId));
});

/** The page's token, or null when the page is gone or signed out. */
async function askToken(clientId: string): Promise<string | null> {
  const client = await self.clients.get(clientId);
  if (!client) return null;
  const channel = new MessageChannel();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ASK_TIMEOUT_MS);
    channel.port1.onmessage = (message: MessageEvent<unknown>) => {
      clearTimeout(timer);
      const data = message.data;
      resolve(
        typeof data === 'object' && data !== null && 'token' in data && typeof data.token === 'string'
          ? data.token
          : null,
      );
    };
    client.postMessage({ type: 'visit-vault.token?' }, [channel.port2]);
  });
}

async function withToken(request: Request, clientId: string): Promise<Response> {
  const token = await askToken(clientId);
  // Without a token the vault answers 401 itself, which the page shows.
  if (token === null) return fetch(request);
  const headers = new Headers(request.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(request.url, {
    method: 'GET',
    headers,
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    signal: request.signal,
  });
}
