import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient } from '../../src/client/phone-client.js';
import { ReceiptRejectedError } from '../../src/client/receipt.js';
import { ResumableRecording } from '../../src/client/resumable.js';
import { StateFileError } from '../../src/client/state-file.js';
import { fakeAudio, newVisit, type Visit } from '../helpers/actors.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/** The phone's state file and spool (src/client/resumable.ts) against the real vault. */
describe.each(STORE_PAIRS)('resumable recording on %s', (pair) => {
  let vault: TestVault;
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    vault = await startTestVault(pair);
    dir = await mkdtemp(path.join(os.tmpdir(), 'resumable-'));
  });
  afterAll(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const client = (visit: Visit, fetchFn?: typeof fetch) =>
    new PhoneClient({
      baseUrl: vault.baseUrl,
      token: visit.beauticianToken,
      logPublicKey: vault.deps.logKey.publicKey,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
      ...(fetchFn ? { fetch: fetchFn } : {}),
    });
  const begin = async (visit: Visit, phone = client(visit)) => {
    const stateFile = path.join(dir, `state-${++n}.json`);
    const recording = await ResumableRecording.begin(phone, {
      stateFile,
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    return { recording, stateFile };
  };

  it('keeps the copy when the receipt does not check out, and deletes it once one does', async () => {
    const visit = await newVisit(vault);
    // A vault (or anything in between) that answers a receipt for other chunks than the phone sent.
    let tamper = true;
    const tampering: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!tamper || !String(input).endsWith('/complete') || res.status !== 200) return res;
      const body = (await res.json()) as { receipt: { chunksRoot: string } };
      body.receipt.chunksRoot = '0'.repeat(64);
      return new Response(JSON.stringify(body), { status: 200, headers: res.headers });
    };
    const { recording, stateFile } = await begin(visit, client(visit, tampering));
    for (const seq of [0, 1, 2]) await recording.record(fakeAudio(500, seq), { final: seq === 2 });
    const err = await recording.finish().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReceiptRejectedError);
    expect(err).toMatchObject({ reason: 'chunks_root' });
    expect(await readdir(`${stateFile}.chunks`)).toHaveLength(3);
    await expect(stat(stateFile)).resolves.toBeTruthy();

    tamper = false;
    const done = await (await ResumableRecording.resume(client(visit), stateFile)).finish();
    expect(done).toMatchObject({ status: 'sealed', safeToDelete: true, receipt: { chunkCount: 3 } });
    await expect(stat(stateFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a recording killed before its final chunk uploads its prefix and reports it truncated, not safe to delete', async () => {
    const visit = await newVisit(vault);
    const { recording, stateFile } = await begin(visit);
    for (const seq of [0, 1]) await recording.record(fakeAudio(400, seq), { final: false });
    // The app dies here; the content key dies with it.
    const resumed = await ResumableRecording.resume(client(visit), stateFile);
    expect(resumed.recordingId).toBe(recording.recordingId);
    await expect(resumed.record(fakeAudio(10, 9), { final: true })).rejects.toThrow(/forgotten/);
    expect(await resumed.finish()).toEqual({
      recordingId: recording.recordingId,
      status: 'truncated',
      chunksUploaded: 2,
      safeToDelete: false,
    });
    const state = await client(visit).resume(recording.recordingId).uploadState();
    expect(state).toMatchObject({ status: 'recording', storedSeqs: [0, 1] });
    await expect(stat(stateFile)).resolves.toBeTruthy();
  });

  it('refuses a damaged state file or spooled chunk rather than guessing', async () => {
    const visit = await newVisit(vault);
    const { recording, stateFile } = await begin(visit);
    // A second recording over a state file that holds an unfinished one would orphan it.
    const again = ResumableRecording.begin(client(visit), {
      stateFile,
      orderId: visit.orderId,
      orderPublicKey: visit.publicKey,
      mimeType: 'audio/ogg',
    });
    await expect(again).rejects.toBeInstanceOf(StateFileError);
    await recording.record(fakeAudio(300, 1), { final: true });
    const [name] = await readdir(`${stateFile}.chunks`);
    await writeFile(path.join(`${stateFile}.chunks`, name!), Buffer.from('bit rot'));
    await expect(recording.finish()).rejects.toThrow(/damaged on this device/);

    await writeFile(stateFile, '{"v":1,"recordingId":"x"}');
    await expect(ResumableRecording.resume(client(visit), stateFile)).rejects.toBeInstanceOf(StateFileError);
  });
});
