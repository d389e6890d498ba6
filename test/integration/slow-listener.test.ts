import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { fakeAudio, newVisit } from '../helpers/actors.js';
import { approvedRequest } from '../helpers/recordings.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/**
 * A player that stops reading for a moment (buffer full, user paused) and then
 * goes on must get the rest of the audio: the decrypting stream may not lose
 * Node's read request while it is busy producing a chunk.
 */
describe.each(STORE_PAIRS)('playback to a listener that pauses (%s)', (pair) => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault(pair, { VAULT_MAX_CHUNK_BYTES: String(1024 * 1024) });
  });
  afterAll(async () => vault?.close());

  it('resumes after the pause and delivers every byte', async () => {
    const visit = await newVisit(vault);
    const audio = fakeAudio(1536 * 1024, 11);
    const upload = await new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken }).startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/wav',
    });
    const chunks = upload.encrypt(splitIntoChunks(audio, 512 * 1024));
    await upload.forgetKey();
    await upload.uploadMissing(chunks);
    await upload.complete(chunks.length);
    const grant = await approvedRequest(vault, visit.orderId);

    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(
          `${vault.baseUrl}/v1/access-requests/${grant.requestId}/recordings/${upload.recordingId}/audio`,
          { headers: { authorization: `Bearer ${grant.staffToken}` } },
          resolve,
        )
        .on('error', reject);
    });
    expect(res.statusCode).toBe(200);
    const received: Buffer[] = [];
    const count = () => received.reduce((n, b) => n + b.length, 0);
    const body = new Promise<Buffer>((resolve, reject) => {
      res.on('data', (d: Buffer) => {
        received.push(d);
        if (received.length === 1) {
          res.pause();
          setTimeout(() => res.resume(), 50);
        }
      });
      res.on('end', () => resolve(Buffer.concat(received)));
      res.on('error', reject);
    });
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the stream stalled after ${count()} of ${audio.length} bytes`)),
        8_000,
      );
    });
    try {
      expect(Buffer.compare(await Promise.race([body, stalled]), Buffer.from(audio))).toBe(0);
    } finally {
      clearTimeout(timer);
      res.destroy();
    }
  });
});
