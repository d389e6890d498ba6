import type {
  AccessRequest,
  AccessRequestList,
  AuditPage,
  Me,
  OrderRecordings,
  Purpose,
  RequestStatus,
  VerifyResult,
} from './api-types.js';

/** An answer other than 2xx, carrying the vault's `{ error: { code, message } }` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'error' in body) {
      const error: unknown = body.error;
      if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error) {
        return new ApiError(res.status, String(error.code), String(error.message));
      }
    }
  } catch (parseError) {
    // Not JSON (a proxy's page, say): report the status and the start of the text below.
    if (!(parseError instanceof SyntaxError)) throw parseError;
  }
  return new ApiError(res.status, `http_${res.status}`, text.slice(0, 200) || res.statusText);
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/** The vault's /v1 API, same origin, with the bearer token in the header and never in a URL. */
export class VaultApi {
  constructor(private readonly token: string) {}

  private async send(
    method: string,
    url: string,
    body?: object,
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${this.token}` };
    if (body) headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      body: body ? JSON.stringify(body) : null,
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  private async json<T>(method: string, url: string, body?: object): Promise<T> {
    return (await (await this.send(method, url, body)).json()) as T;
  }

  me(): Promise<Me> {
    return this.json('GET', '/v1/me');
  }

  registerSigningKey(publicKey: string): Promise<unknown> {
    return this.json('PUT', '/v1/me/signing-key', { publicKey });
  }

  orderRecordings(orderId: string): Promise<OrderRecordings> {
    return this.json('GET', `/v1/orders/${path(orderId)}/recordings`);
  }

  listRequests(filter: {
    orderId?: string;
    status?: RequestStatus;
    awaiting?: 'me';
    sort?: 'newest' | 'deadline';
    after?: string;
    limit?: number;
  }): Promise<AccessRequestList> {
    const q = new URLSearchParams();
    for (const [name, value] of Object.entries(filter)) if (value !== undefined) q.set(name, String(value));
    return this.json('GET', `/v1/access-requests?${q.toString()}`);
  }

  readRequest(id: string): Promise<AccessRequest> {
    return this.json('GET', `/v1/access-requests/${path(id)}`);
  }

  fileRequest(input: { orderId: string; purpose: Purpose; reason: string; ticketRef: string }): Promise<AccessRequest> {
    return this.json('POST', '/v1/access-requests', input);
  }

  decide(
    id: string,
    input: { decision: 'approve' | 'reject'; comment: string; signature?: string },
  ): Promise<AccessRequest> {
    return this.json('POST', `/v1/access-requests/${path(id)}/decisions`, input);
  }

  /** Where <audio> streams a recording from; the service worker (sw.ts) adds the token to its requests. */
  audioUrl(requestId: string, recordingId: string): string {
    return `/v1/access-requests/${path(requestId, 'recordings', recordingId)}/audio`;
  }

  /** The original bytes of one recording, whole: the fallback where no service worker can stream. */
  async audio(requestId: string, recordingId: string): Promise<Blob> {
    return (await this.send('GET', this.audioUrl(requestId, recordingId))).blob();
  }

  /** The first byte only: asks the vault why <audio> could not load a recording. */
  async audioProbe(requestId: string, recordingId: string): Promise<void> {
    const res = await this.send('GET', this.audioUrl(requestId, recordingId), undefined, { range: 'bytes=0-0' });
    await res.body?.cancel();
  }

  audit(filter: { orderId: string; after?: string; limit: number }): Promise<AuditPage> {
    const q = new URLSearchParams({ orderId: filter.orderId, limit: String(filter.limit) });
    if (filter.after) q.set('after', filter.after);
    return this.json('GET', `/v1/audit?${q.toString()}`);
  }

  verifyAudit(): Promise<VerifyResult> {
    return this.json('GET', '/v1/audit/verify');
  }

  /** An order's evidence bundle, as the vault sent it (JSON), for saving to a file. */
  async evidence(orderId: string): Promise<Blob> {
    return (await this.send('GET', `/v1/orders/${path(orderId)}/evidence`)).blob();
  }

  /** Answers this tab's own service worker, which asked for the token to stream audio with (sw.ts). */
  answerTokenRequest(port: MessagePort): void {
    port.postMessage({ token: this.token });
  }
}
