/**
 * The phones' side of the ingest benchmark, run as its own process (as real
 * phones would be), so that encrypting chunks and parsing answers neither
 * competes with the vault's event loop nor counts in its latency.
 * Reads one job (JSON) from stdin, writes one result (JSON) to stdout.
 * The same load goes to the vault and to the reference servers: only the
 * request's shape differs (see `Protocol`).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { mapLimit } from '../../../src/concurrency.js';
import { encryptChunk } from '../../../src/crypto/chunk-format.js';
import { fromBase64Url, getSodium } from '../../../src/crypto/sodium.js';

export interface Target {
  recordingId: string;
  /** base64url content key */
  contentKey: string;
}

/**
 * How a chunk is sent: the vault's chunk PUT; a bare PUT of the body to the
 * bare reference server; or a tus creation-with-upload POST (one request that
 * creates the upload and sends all its bytes) to tus-node-server.
 */
export type Protocol =
  | { kind: 'vault'; base: string; token: string }
  | { kind: 'bare'; base: string }
  | { kind: 'tus'; base: string };

export type UploaderJob =
  | {
      kind: 'burst';
      protocol: Protocol;
      target: Target;
      chunkBytes: number;
      count: number;
      concurrency: number;
    }
  | {
      kind: 'phones';
      protocol: Protocol;
      targets: Target[];
      rounds: number;
      periodMs: number;
      chunkBytes: number;
    };

export interface BurstResult {
  kind: 'burst';
  seconds: number;
  bytes: number;
  chunks: number;
}

export interface PhonesResult {
  kind: 'phones';
  /** acknowledgement latencies of the successful answers, ms, sorted */
  latencies: number[];
  acked: { recordingId: string; seq: number }[];
  errorKinds: Record<string, number>;
  /** how long the sending lasted, from the first phone's first chunk to the last answer */
  sendingMs: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

interface Answer {
  ok: boolean;
  status: number;
}

function requestFor(
  p: Protocol,
  recordingId: string,
  seq: number,
  length: number,
): { url: string; options: http.RequestOptions } {
  const common = { 'content-length': String(length) };
  switch (p.kind) {
    case 'vault':
      return {
        url: `${p.base}/v1/recordings/${recordingId}/chunks/${seq}`,
        options: {
          method: 'PUT',
          headers: { ...common, authorization: `Bearer ${p.token}`, 'content-type': 'application/octet-stream' },
        },
      };
    case 'bare':
      return {
        url: `${p.base}/objects/${recordingId}/${seq}`,
        options: { method: 'PUT', headers: { ...common, 'content-type': 'application/octet-stream' } },
      };
    case 'tus':
      return {
        url: `${p.base}/files`,
        options: {
          method: 'POST',
          headers: {
            ...common,
            'tus-resumable': '1.0.0',
            'upload-length': String(length),
            'content-type': 'application/offset+octet-stream',
          },
        },
      };
  }
}

/** A success is the protocol's own: 201 from the vault and bare; 201 with every byte taken (Upload-Offset) from tus. */
function put(p: Protocol, recordingId: string, seq: number, body: Uint8Array): Promise<Answer> {
  const { url, options } = requestFor(p, recordingId, seq, body.length);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { ...options, agent });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const whole = p.kind !== 'tus' || res.headers['upload-offset'] === String(body.length);
        resolve({ ok: status === 201 && whole, status });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function keyOf(t: Target): Uint8Array {
  const key = fromBase64Url(t.contentKey);
  if (!key) throw new Error(`no content key for ${t.recordingId}`);
  return key;
}

/** Seq 0 warms the connection and the route; the rest are timed, `concurrency` at a time. */
async function burst(job: Extract<UploaderJob, { kind: 'burst' }>): Promise<BurstResult> {
  const contentKey = keyOf(job.target);
  const plaintext = new Uint8Array(job.chunkBytes - 41).fill(7);
  const { recordingId } = job.target;
  const bodies = Array.from({ length: job.count }, (_, seq) =>
    encryptChunk({ contentKey, recordingId, seq, final: false, plaintext }),
  );
  const first = bodies[0];
  if (!first) throw new Error('a burst needs at least one chunk');
  await put(job.protocol, recordingId, 0, first);
  const t0 = performance.now();
  await mapLimit(bodies.slice(1), job.concurrency, async (body, i) => {
    const answer = await put(job.protocol, recordingId, i + 1, body);
    if (!answer.ok) throw new Error(`upload answered ${answer.status}`);
  });
  return {
    kind: 'burst',
    seconds: (performance.now() - t0) / 1000,
    bytes: (job.count - 1) * job.chunkBytes,
    chunks: job.count - 1,
  };
}

/** Every phone sends one chunk per period, the phones spread evenly over it. */
async function phones(job: Extract<UploaderJob, { kind: 'phones' }>): Promise<PhonesResult> {
  const plaintext = new Uint8Array(job.chunkBytes - 41).fill(3);
  const latencies: number[] = [];
  const acked: PhonesResult['acked'] = [];
  const errorKinds: Record<string, number> = {};
  const failed = (kind: string) => {
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  // Encrypted before the clock starts: real phones encrypt on their own CPUs, not on the two cores the vault runs on.
  const bodies = job.targets.map((target) => {
    const contentKey = keyOf(target);
    return Array.from({ length: job.rounds }, (_, seq) =>
      encryptChunk({ contentKey, recordingId: target.recordingId, seq, final: seq === job.rounds - 1, plaintext }),
    );
  });
  const start = performance.now() + 500;
  await Promise.all(
    job.targets.map(async (target, p) => {
      const offset = (p / job.targets.length) * job.periodMs;
      for (let seq = 0; seq < job.rounds; seq++) {
        const wait = start + offset + seq * job.periodMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const body = bodies[p]?.[seq];
        if (!body) throw new Error(`no body for phone ${p} seq ${seq}`);
        const t = performance.now();
        try {
          const answer = await put(job.protocol, target.recordingId, seq, body);
          if (answer.ok) {
            latencies.push(performance.now() - t);
            acked.push({ recordingId: target.recordingId, seq });
          } else failed(`http ${answer.status}`);
        } catch (err) {
          failed(err instanceof Error && 'code' in err ? String(err.code) : 'network');
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { kind: 'phones', latencies, acked, errorKinds, sendingMs: performance.now() - start };
}

let input = '';
for await (const part of process.stdin) input += String(part);
const job = JSON.parse(input) as UploaderJob;
await getSodium(); // libsodium's wasm must be ready before encryptChunk
const result = job.kind === 'burst' ? await burst(job) : await phones(job);
agent.destroy();
process.stdout.write(JSON.stringify(result));
