import pRetry, { AbortError } from 'p-retry';

/**
 * @module
 * The phone's HTTP: one request at a time, each attempt bounded by its own
 * timeout, retried with exponential backoff and jitter (p-retry) while the
 * failure is one a retry can cure: no answer (network error, timeout), 5xx,
 * 408, 429, and 400 `digest_mismatch` (the body was damaged on the way; the
 * same bytes sent again may arrive whole). Every other answer is final and
 * goes back to the caller to interpret.
 */

/** A failure answer from the vault, after retries (if any) ran out. */
export class VaultHttpError extends Error {
  override name = 'VaultHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly body: unknown,
  ) {
    super(`vault answered ${status} ${code}`);
  }
}

export interface RetryPolicy {
  /** attempts in all, the first included */
  attempts: number;
  /** the first retry waits about this long (randomised ×1–2), each later one twice as long */
  baseDelayMs: number;
  maxDelayMs: number;
  /** one attempt (sending the request and reading the whole answer) is abandoned after this long */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 200, maxDelayMs: 10_000, timeoutMs: 30_000 };

/** What a retryable failure carries through p-retry: the error to surface if it was the last, and a Retry-After. */
class RetryableFailure extends Error {
  override name = 'RetryableFailure';
  constructor(
    readonly final: Error,
    readonly retryAfterMs?: number,
  ) {
    super(final.message);
  }
}

const RETRYABLE_STATUS = (status: number) => status >= 500 || status === 408 || status === 429;
/** 400 codes that mean "the request did not arrive as sent", not "the request is wrong". */
const RETRYABLE_CODES = new Set(['digest_mismatch']);

function retryAfterMs(value: string | null): number | undefined {
  return value && /^\d{1,6}$/.test(value) ? Number(value) * 1000 : undefined;
}

export function errorCodeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const e = body.error;
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends one request with retries. The answer's body is read inside the
 * attempt, so the timeout covers it too, and comes back as a fresh Response.
 * After the last attempt, a network failure rethrows its own error; a
 * retryable answer becomes a VaultHttpError.
 */
export async function sendWithRetry(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<Response> {
  const attempt = async (): Promise<Response> => {
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    let status: number;
    let headers: Headers;
    let bytes: ArrayBuffer;
    try {
      const res = await fetchFn(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      status = res.status;
      headers = res.headers;
      bytes = await res.arrayBuffer();
    } catch (err) {
      if (signal?.aborted) throw new AbortError(err instanceof Error ? err : String(err));
      throw new RetryableFailure(err instanceof Error ? err : new Error(String(err)));
    }
    const answer = new Response(bytes.byteLength > 0 ? bytes : null, { status, headers });
    if (RETRYABLE_STATUS(status) || status === 400) {
      const body: unknown = await answer
        .clone()
        .json()
        .catch(() => null);
      const code = errorCodeOf(body);
      if (RETRYABLE_STATUS(status) || (code !== undefined && RETRYABLE_CODES.has(code)))
        throw new RetryableFailure(
          new VaultHttpError(status, code ?? `http_${status}`, body),
          retryAfterMs(headers.get('retry-after')),
        );
    }
    return answer;
  };
  try {
    return await pRetry(attempt, {
      retries: Math.max(0, policy.attempts - 1),
      minTimeout: policy.baseDelayMs,
      maxTimeout: policy.maxDelayMs,
      factor: 2,
      randomize: true,
      signal,
      // Retry-After (seconds) is honoured, up to maxDelayMs: wait out whatever the backoff does not already cover.
      onFailedAttempt: async ({ error, retryDelay, retriesLeft }) => {
        const hinted = error instanceof RetryableFailure ? error.retryAfterMs : undefined;
        if (hinted !== undefined && retriesLeft > 0)
          await sleep(Math.max(0, Math.min(hinted, policy.maxDelayMs) - retryDelay));
      },
    });
  } catch (err) {
    throw err instanceof RetryableFailure ? err.final : err;
  }
}

/** The JSON body of a success, or a VaultHttpError carrying the SPEC error body. */
export async function expectJson<T>(res: Response, ...ok: number[]): Promise<T> {
  const body: unknown = await res.json().catch(() => null);
  if (!ok.includes(res.status)) throw new VaultHttpError(res.status, errorCodeOf(body) ?? `http_${res.status}`, body);
  return body as T;
}
