/**
 * `npm run demo`: one home visit, end to end, against a real vault started on
 * its embedded defaults in a temp dir. Exits non-zero if any step fails.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signOff } from '../src/cli/sign-off.js';
import { expectJson, VaultHttpError } from '../src/client/http.js';
import { PhoneClient, splitIntoChunks } from '../src/client/phone-client.js';
import { checkReceipt, ReceiptRejectedError, sha256Hex } from '../src/client/receipt.js';
import { generateSigningKey } from '../src/crypto/decision-signature.js';
import { generateLogSeed, logKeyFromSeed } from '../src/crypto/log-key.js';
import { receiptMessage } from '../src/crypto/receipt.js';
import { getSodium, toBase64Url } from '../src/crypto/sodium.js';
import { freePort } from '../test/helpers/ports.js';
import { makeAudio } from './demo-audio.js';

let step = 0;
const say = (text: string) => process.stdout.write(`\n[${++step}] ${text}\n`);
const detail = (text: string) => process.stdout.write(`    ${text}\n`);

async function main(): Promise<void> {
  const sodium = await getSodium();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visit-vault-demo-'));
  // Run as root, the embedded PostgreSQL runs as the system user postgres, which must be able to enter (not list) it.
  await chmod(dir, 0o711);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const adminToken = `vv_${toBase64Url(sodium.randombytes_buf(32))}`;
  // The audit log's key: its secret goes to the vault, its public half ships inside the phone app.
  const logSeed = await generateLogSeed();
  const logPublicKey = (await logKeyFromSeed('visit-vault.local/audit', logSeed)).publicKey;
  say(`starting the vault on embedded defaults (PostgreSQL cluster + files) in ${dir}`);
  const serverEntry = fileURLToPath(new URL('../src/server.ts', import.meta.url));
  const server = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
    env: {
      ...process.env,
      PORT: String(port),
      VAULT_DATA_DIR: path.join(dir, 'data'),
      VAULT_BOOTSTRAP_ADMIN_TOKEN: adminToken,
      VAULT_LOG_SIGNING_KEY: logSeed,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  };
  try {
    // Ready, or exited: the deadline is only a backstop (a loaded machine starts the embedded database slowly).
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (
        await fetch(`${base}/readyz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline || server.exitCode !== null) throw new Error('the vault did not become ready');
      await new Promise((r) => setTimeout(r, 200));
    }
    detail(`ready at ${base}`);

    const call = async <T>(token: string, method: string, p: string, body: unknown, ...ok: number[]): Promise<T> => {
      const res = await fetch(`${base}${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return expectJson<T>(res, ...ok);
    };
    const principal = async (id: string, name: string, department: string, roles: string[]) =>
      (await call<{ token: string }>(adminToken, 'POST', '/v1/principals', { id, name, department, roles }, 201)).token;

    say('the admin issues tokens: platform, beautician, dispute officer, department head, head of security, auditor');
    const platform = await principal('booking-platform', 'Booking platform', 'platform', ['platform']);
    const beautician = await principal('bea-1', 'Bea Beautician', 'field', ['beautician']);
    const officer = await principal('olga', 'Olga (dispute officer)', 'disputes', ['dispute_staff']);
    const head = await principal('dan', 'Dan (head of disputes)', 'disputes', ['department_head']);
    const security = await principal('sam', 'Sam (head of security)', 'security', ['security_head']);
    const auditor = await principal('ada', 'Ada (auditor)', 'audit', ['auditor']);

    say('the platform registers order ord-1001 and records both consents');
    const order = await call<{ orderId: string; publicKey: string }>(
      platform,
      'POST',
      '/v1/orders',
      { orderId: 'ord-1001', beauticianId: 'bea-1', customerId: 'cust-77', scheduledAt: new Date().toISOString() },
      201,
    );
    detail(`order public key (to the phone): ${order.publicKey.slice(0, 16)}…`);
    await call(
      platform,
      'POST',
      '/v1/orders/ord-1001/consents',
      { party: 'beautician', decision: 'consent', mode: 'explicit', appVersion: '5.2.0' },
      201,
    );
    await call(
      platform,
      'POST',
      '/v1/orders/ord-1001/consents',
      { party: 'customer', decision: 'consent', mode: 'notified_no_objection', appVersion: '5.2.0' },
      201,
    );

    say('the phone records ~30 s of audio and encrypts it on the phone');
    const audio = await makeAudio(30);
    detail(`${audio.bytes.length} bytes (${audio.how})`);
    let online = true;
    let puts = 0;
    const flaky: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT' && ++puts === 8) online = false;
      if (!online) throw new TypeError('network unreachable (the phone lost signal in the stairwell)');
      return fetch(input, init);
    };
    detail(`the app pins the audit log's public key: ${toBase64Url(logPublicKey)}`);
    const phone = new PhoneClient({
      baseUrl: base,
      token: beautician,
      fetch: flaky,
      retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 },
      logPublicKey,
    });
    const upload = await phone.startRecording({
      orderId: 'ord-1001',
      orderPublicKey: order.publicKey,
      mimeType: 'audio/wav',
    });
    const chunks = upload.encrypt(splitIntoChunks(audio.bytes, 40_000));
    await upload.forgetKey();
    detail(
      `recording ${upload.recordingId}: ${chunks.length} encrypted chunks; the content key is wiped from the phone`,
    );

    say('uploading… and the network drops mid-upload');
    try {
      await upload.uploadMissing(chunks, 1);
      throw new Error('the simulated network drop did not happen');
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      detail(`upload interrupted: ${err.message}`);
    }
    online = true;
    const state = await upload.uploadState();
    detail(`back online: the vault holds seqs ${state.storedSeqs.join(', ')}`);
    const { sent } = await upload.uploadMissing(chunks);
    detail(`resumed: sent the ${sent} missing chunks`);
    say('the phone completes the recording and checks the signed receipt before deleting its copy');
    const { receipt } = await upload.finish(chunks);
    detail(`receipt: recording ${receipt.recordingId}, ${receipt.chunkCount} chunks`);
    detail(`  chunksRoot  ${receipt.chunksRoot} (RFC 9162 root over the chunks' SHA-256s)`);
    detail(`  sealedAt    ${receipt.sealedAt}; kept until ${receipt.retainUntil} unless a hold keeps it longer`);
    detail(`  signature   ${receipt.signature.slice(0, 32)}… (Ed25519, the log key)`);
    detail(`  signed bytes ${receiptMessage(receipt).toString('utf8').slice(0, 72)}…`);
    detail("receipt verified with the log key and the root of the phone's own chunks: safe to delete the copy");
    const forged = await checkReceipt(
      { ...receipt, retainUntil: new Date(Date.parse(receipt.retainUntil) + 86_400_000).toISOString() },
      { recordingId: receipt.recordingId, chunkSha256s: chunks.map((c) => sha256Hex(c.bytes)), logPublicKey },
    ).then(
      () => 'accepted',
      (err: unknown) => (err instanceof ReceiptRejectedError ? `rejected (${err.reason})` : String(err)),
    );
    detail(`the same receipt with retainUntil moved a day later: ${forged}`);
    if (forged === 'accepted') throw new Error('a forged receipt was accepted');

    say('the beautician sees that its recording is sealed, but cannot listen; nobody can before sign-off');
    const mine = await call<{ recordings: { recordingId: string; status: string }[] }>(
      beautician,
      'GET',
      '/v1/orders/ord-1001/recordings',
      undefined,
      200,
    );
    detail(
      `beautician lists its order's recordings → ${mine.recordings.map((r) => r.status).join(', ')} (metadata only)`,
    );
    const early = await fetch(`${base}/v1/access-requests/none/recordings/${upload.recordingId}/audio`, {
      headers: { authorization: `Bearer ${beautician}` },
    });
    detail(`beautician asks for the audio → ${early.status}`);
    if (early.status !== 403) throw new Error('the beautician could reach the audio');

    say('a customer complains: the dispute officer files an access request');
    const filed = await call<{ id: string; status: string }>(
      officer,
      'POST',
      '/v1/access-requests',
      {
        orderId: 'ord-1001',
        purpose: 'dispute',
        reason: 'customer says the service was cut short',
        ticketRef: 'CS-4711',
      },
      201,
    );
    detail(`request ${filed.id}: ${filed.status}`);
    const notYet = await fetch(`${base}/v1/access-requests/${filed.id}/recordings/${upload.recordingId}/audio`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    detail(`playing before sign-off → ${notYet.status}`);
    if (notYet.status !== 403) throw new Error('audio played before sign-off');

    say('two signed sign-offs (vault sign-off): the head of disputes, then the head of security');
    // Each head makes an Ed25519 key file once (`vault keys signing-keygen`); `vault sign-off` registers its
    // public key on first use and signs the request's digest, the decision and the comment with it.
    const signWith = async (token: string, who: string, decision: 'approve' | 'reject', comment: string) => {
      const keyFile = path.join(dir, `${who}.signing-key`);
      const key = await generateSigningKey();
      await writeFile(keyFile, `${key.seed}\n`, { mode: 0o600 });
      return signOff({ server: base, token, requestId: filed.id, decision, comment, keyFile, say: detail });
    };
    const one = await signWith(head, 'head', 'approve', 'ticket checked');
    detail(`after the department head: ${one.status}`);
    const two = await signWith(security, 'security', 'approve', 'purpose is legitimate');
    const decided = await call<{ grantExpiresAt: string; decisions: { signerKeyId?: string }[] }>(
      officer,
      'GET',
      `/v1/access-requests/${filed.id}`,
      undefined,
      200,
    );
    detail(`signed by keys ${decided.decisions.map((d) => d.signerKeyId).join(' and ')}`);
    detail(`after the head of security: ${two.status}, may play until ${decided.grantExpiresAt}`);

    say('the officer plays the recording, decrypted on the fly');
    const played = await fetch(`${base}/v1/access-requests/${filed.id}/recordings/${upload.recordingId}/audio`, {
      headers: { authorization: `Bearer ${officer}` },
    });
    if (played.status !== 200) throw new VaultHttpError(played.status, 'playback_failed', await played.text());
    const bytes = new Uint8Array(await played.arrayBuffer());
    const out = path.join(process.cwd(), 'demo-playback.wav');
    await writeFile(out, bytes);
    const same = Buffer.compare(Buffer.from(bytes), Buffer.from(audio.bytes)) === 0;
    detail(`saved ${bytes.length} bytes to ${out}; identical to what the phone recorded: ${same}`);
    if (!same) throw new Error('played audio differs from the recording');

    say('the auditor reads the order’s story and verifies the log against its signed checkpoint');
    const trail = await call<{ entries: { action: string; actorId: string | null }[] }>(
      auditor,
      'GET',
      '/v1/audit?orderId=ord-1001&limit=1000',
      undefined,
      200,
    );
    const counts = new Map<string, number>();
    for (const e of trail.entries) counts.set(e.action, (counts.get(e.action) ?? 0) + 1);
    for (const [action, n] of counts) detail(`${action.padEnd(28)} ×${n}`);
    const verdict = await call<{ ok: boolean; checked: number; treeSize: number }>(
      auditor,
      'GET',
      '/v1/audit/verify',
      undefined,
      200,
    );
    detail(`log verified: ok=${verdict.ok}, ${verdict.checked} entries in the signed tree of ${verdict.treeSize}`);
    if (!verdict.ok) throw new Error('the audit log does not verify');

    process.stdout.write('\ndemo complete\n');
  } finally {
    await stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`\ndemo FAILED at step ${step}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
