import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhoneClient } from '../../src/client/phone-client.js';
import { verifyEd25519 } from '../../src/crypto/log-key.js';
import { leafHash, rootOfLeaves } from '../../src/crypto/merkle.js';
import { fromBase64Url, toBase64Url } from '../../src/crypto/sodium.js';
import { canonicalBytes } from '../../src/json.js';
import { fakeAudio, newVisit } from '../helpers/actors.js';
import { startHoldingProxy } from '../helpers/proxies.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

interface Run {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** The reference phone (src/client/main.ts) as a process of its own, as a real app would be. */
function phone(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/client/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (t: string) => {
    out += t;
  });
  child.stderr?.setEncoding('utf8').on('data', (t: string) => {
    err += t;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`phone exited ${code}: ${err}\n`);
      resolve(code);
    });
  });
  return { child, stdout: () => out, exited };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/**
 * The phone app killed (SIGKILL) mid-upload and started again: it finds its
 * recording in the state file, sends only what the vault lacks, completes,
 * and calls its copy safe to delete only after the receipt checked out.
 */
describe.each(STORE_PAIRS)('phone killed mid-upload on %s', (pair) => {
  let vault: TestVault;
  let dir: string;
  beforeAll(async () => {
    vault = await startTestVault(pair);
    dir = await mkdtemp(path.join(os.tmpdir(), 'phone-kill-'));
  });
  afterAll(async () => {
    await vault?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes from its state file and completes; the receipt verifies and its root matches the kept chunks', async () => {
    const visit = await newVisit(vault);
    const tokenFile = path.join(dir, 'token');
    await writeFile(tokenFile, visit.beauticianToken, { mode: 0o600 });
    const audioFile = path.join(dir, 'visit.ogg');
    await writeFile(audioFile, fakeAudio(40 * 1024, 21));
    const stateFile = path.join(dir, 'upload.json');
    const logKey = toBase64Url(vault.deps.logKey.publicKey);
    const common = ['--token-file', tokenFile, '--log-key', logKey, '--state', stateFile, '--parallel', '1'];

    // The network lets 6 chunks through, then hangs: the app is mid-upload when it is killed.
    const proxy = await startHoldingProxy(vault.baseUrl, { passPuts: 6 });
    const first = phone([
      'upload',
      '--base-url',
      proxy.endpoint,
      ...common,
      '--order',
      visit.orderId,
      '--public-key',
      visit.publicKey,
      '--audio',
      audioFile,
      '--chunk-bytes',
      '2048',
    ]);
    try {
      await Promise.race([
        proxy.held,
        first.exited.then((code) => {
          throw new Error(`the first phone exited (${code}) before it was held`);
        }),
      ]);
      // What the killed app left: a state file without any key, and the encrypted chunks it had spooled.
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as Record<string, unknown>;
      expect(Object.keys(state).sort()).toEqual(['finalSeq', 'mimeType', 'nextSeq', 'orderId', 'recordingId', 'v']);
      expect(state).toMatchObject({ orderId: visit.orderId, nextSeq: 20, finalSeq: 19 });
      const spool = `${stateFile}.chunks`;
      const names = (await readdir(spool)).sort();
      expect(names).toHaveLength(20);
      const kept = await Promise.all(names.map(async (n) => readFile(path.join(spool, n))));
      first.child.kill('SIGKILL');
      expect(await first.exited).toBeNull();

      const recordingId = state.recordingId as string;
      const vaultView = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken }).resume(recordingId);
      const before = await vaultView.uploadState();
      expect(before).toMatchObject({ status: 'recording', storedSeqs: [0, 1, 2, 3, 4, 5] });

      // A new process, straight to the vault this time, from the state file alone.
      const second = phone(['resume', '--base-url', vault.baseUrl, ...common]);
      expect(await second.exited).toBe(0);
      const outcome = JSON.parse(second.stdout()) as {
        recordingId: string;
        status: string;
        safeToDelete: boolean;
        receipt: Record<string, string | number>;
      };
      expect(outcome).toMatchObject({ recordingId, status: 'sealed', safeToDelete: true });

      // The receipt, checked here with the log's public key and a root computed from the chunks this test kept.
      const { receipt } = outcome;
      const root = rootOfLeaves(kept.map((c) => leafHash(sha256(c)))).toString('hex');
      expect(receipt).toMatchObject({ recordingId, chunkCount: 20, chunksRoot: root });
      const signed = canonicalBytes({
        v: 'visit-vault/receipt/v1',
        recordingId,
        chunkCount: 20,
        chunksRoot: root,
        sealedAt: receipt.sealedAt!,
        retainUntil: receipt.retainUntil!,
      });
      const signature = fromBase64Url(String(receipt.signature))!;
      expect(await verifyEd25519(signature, signed, vault.deps.logKey.publicKey)).toBe(true);

      const after = await vaultView.uploadState();
      expect(after.status).toBe('sealed');
      expect(after.chunks.map((c) => c.sha256)).toEqual(kept.map((c) => sha256(c).toString('hex')));
      // Safe to delete, and deleted: nothing of the recording is left on the phone.
      await expect(stat(stateFile)).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(stat(spool)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      await proxy.close();
    }
  }, 120_000);
});
