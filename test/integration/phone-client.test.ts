import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultHttpError } from '../../src/client/http.js';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { decryptChunk } from '../../src/crypto/chunk-format.js';
import { openSealedContentKey } from '../../src/crypto/order-keys.js';
import { openOrderSecretKey } from '../../src/domain/order-key-epochs.js';
import { findOrder } from '../../src/store/db/orders.js';
import { findRecording, listChunks } from '../../src/store/db/recordings.js';
import { fakeAudio, newVisit } from '../helpers/actors.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/** The phone's library against the real server: register → consent → start → upload with a drop → resume → complete. */
describe.each(STORE_PAIRS)('phone client on %s', (pair) => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault(pair);
  });
  afterAll(async () => vault?.close());

  it('uploads, survives a dropped connection, resumes and seals; the stored chunks decrypt to the original', async () => {
    const visit = await newVisit(vault);
    const audio = fakeAudio(50_000, 7);
    const plaintext = splitIntoChunks(audio, 4_096);

    // The first phone session dies after a few chunks (network lost).
    let budget = 5;
    const flakyFetch: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT' && budget-- <= 0) throw new TypeError('network is unreachable');
      return fetch(input, init);
    };
    const phone = new PhoneClient({
      baseUrl: vault.baseUrl,
      token: visit.beauticianToken,
      fetch: flakyFetch,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    });
    const upload = await phone.startRecording({
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg; codecs=opus',
    });
    const chunks = upload.encrypt(plaintext);
    await upload.forgetKey();
    expect(() => upload.encrypt(plaintext)).toThrow(/forgotten/);
    await expect(upload.uploadMissing(chunks, 1)).rejects.toThrow(/unreachable/);

    // Back online: a fresh client resumes from upload-state and sends only the rest.
    const online = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken });
    const resumed = online.resume(upload.recordingId);
    const before = await resumed.uploadState();
    expect(before.storedSeqs).toEqual([0, 1, 2, 3, 4]);
    const { sent } = await resumed.uploadMissing(chunks);
    expect(sent).toBe(chunks.length - 5);
    // Sending everything again is harmless: duplicates.
    expect(await resumed.uploadChunk(chunks[0]!)).toBe('duplicate');
    const sealed = await resumed.complete(chunks.length);
    expect(sealed.status).toBe('sealed');

    // The vault's own keys open what the phone sealed; the chunks decrypt to the original audio.
    const order = await findOrder(vault.deps.db, visit.orderId);
    const rec = await findRecording(vault.deps.db, upload.recordingId);
    const secretKey = await openOrderSecretKey(vault.deps, visit.orderId);
    const contentKey = openSealedContentKey({
      sealedContentKey: rec!.sealedContentKey,
      publicKey: order!.publicKey,
      secretKey,
    });
    const rows = await listChunks(vault.deps.db, upload.recordingId);
    const parts = await Promise.all(
      rows.map(async (row) =>
        decryptChunk({
          contentKey,
          recordingId: upload.recordingId,
          seq: row.seq,
          final: row.seq === rows.length - 1,
          chunk: (await vault.deps.blobs.get(row.objectKey))!,
        }),
      ),
    );
    expect(Buffer.compare(Buffer.concat(parts), Buffer.from(audio))).toBe(0);
    expect(rows.map((r) => r.plaintextSize).reduce((a, b) => a + b, 0)).toBe(audio.length);
  });

  it('does not retry a refusal: 409 surfaces as a typed error', async () => {
    const visit = await newVisit(vault, { consents: false });
    let calls = 0;
    const counting: typeof fetch = async (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken, fetch: counting });
    const err = await phone
      .startRecording({ orderId: visit.orderId, orderPublicKey: visit.publicKey, mimeType: 'audio/ogg' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultHttpError);
    expect(err).toMatchObject({ status: 409, code: 'consent_required' });
    expect(calls).toBe(1);
  });
});
