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
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 200, maxDelayMs: 10_000 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with full jitter; a Retry-After (seconds) is honoured up to maxDelayMs. */
export function backoffMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfter: string | null,
  random: () => number = Math.random,
): number {
  const hinted = retryAfter && /^\d{1,6}$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
  if (hinted !== undefined) return Math.min(hinted, policy.maxDelayMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

const retryable = (status: number) => status >= 500 || status === 408 || status === 429;

/**
 * Sends one request, retrying network errors, 5xx, 408 and 429 with backoff.
 * Any other 4xx is final: it is returned to the caller to interpret.
 */
export async function fetchWithRetry(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  policy: RetryPolicy,
): Promise<Response> {
  let lastError: unknown;
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    let res: Response | undefined;
    try {
      res = await fetchFn(url, init);
    } catch (err) {
      lastError = err;
    }
    if (res && !retryable(res.status)) return res;
    if (res) {
      lastError = new VaultHttpError(res.status, await errorCode(res), null);
    }
    if (attempt + 1 < policy.attempts) await sleep(backoffMs(policy, attempt, res?.headers.get('retry-after') ?? null));
  }
  throw lastError instanceof Error ? lastError : new Error('request failed');
}

async function errorCode(res: Response): Promise<string> {
  const body = await res.json().catch(() => null);
  return errorCodeOf(body) ?? `http_${res.status}`;
}

export function errorCodeOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const e = body.error;
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** The JSON body of a success, or a VaultHttpError carrying the SPEC error body. */
export async function expectJson<T>(res: Response, ...ok: number[]): Promise<T> {
  const body: unknown = await res.json().catch(() => null);
  if (!ok.includes(res.status)) throw new VaultHttpError(res.status, errorCodeOf(body) ?? `http_${res.status}`, body);
  return body as T;
}
