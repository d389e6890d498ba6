import type {
  AccessRequest,
  AccessRequestList,
  AuditPage,
  OrderRecordings,
  Purpose,
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

  private async send(method: string, url: string, body?: object): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
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

  orderRecordings(orderId: string): Promise<OrderRecordings> {
    return this.json('GET', `/v1/orders/${path(orderId)}/recordings`);
  }

  listRequests(filter: {
    orderId?: string;
    status?: AccessRequest['status'];
    limit?: number;
  }): Promise<AccessRequestList> {
    const q = new URLSearchParams();
    if (filter.orderId) q.set('orderId', filter.orderId);
    if (filter.status) q.set('status', filter.status);
    if (filter.limit) q.set('limit', String(filter.limit));
    return this.json('GET', `/v1/access-requests?${q.toString()}`);
  }

  readRequest(id: string): Promise<AccessRequest> {
    return this.json('GET', `/v1/access-requests/${path(id)}`);
  }

  fileRequest(input: { orderId: string; purpose: Purpose; reason: string; ticketRef: string }): Promise<AccessRequest> {
    return this.json('POST', '/v1/access-requests', input);
  }

  decide(id: string, input: { decision: 'approve' | 'reject'; comment: string }): Promise<AccessRequest> {
    return this.json('POST', `/v1/access-requests/${path(id)}/decisions`, input);
  }

  /** The original bytes of one recording, whole, as a Blob the <audio> element can seek in. */
  async audio(requestId: string, recordingId: string): Promise<Blob> {
    return (await this.send('GET', `/v1/access-requests/${path(requestId, 'recordings', recordingId)}/audio`)).blob();
  }

  audit(filter: { orderId: string; after?: string; limit: number }): Promise<AuditPage> {
    const q = new URLSearchParams({ orderId: filter.orderId, limit: String(filter.limit) });
    if (filter.after) q.set('after', filter.after);
    return this.json('GET', `/v1/audit?${q.toString()}`);
  }

  verifyAudit(): Promise<VerifyResult> {
    return this.json('GET', '/v1/audit/verify');
  }
}
