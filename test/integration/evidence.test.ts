import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceBundle } from '../../src/audit/evidence-bundle.js';
import { buildProgram } from '../../src/cli/main.js';
import { bearer, newVisit, type Visit } from '../helpers/actors.js';
import { approvedRequest, uploadSealed } from '../helpers/recordings.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

/** Runs the CLI with no way to reach a database: `evidence verify` must not need one. */
async function offlineCli(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const program = buildProgram({
    openDeps: () => Promise.reject(new Error('evidence verify opened the vault')),
    out: (l) => lines.push(l),
    actorId: 'cli:court',
  });
  const quiet = (c: Command): void => {
    c.exitOverride().configureOutput({ writeErr: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(program);
  await program.parseAsync(['node', 'vault', ...args]);
  return lines;
}

const flipHex = (h: string) => (h[0] === '0' ? `1${h.slice(1)}` : `0${h.slice(1)}`);

describe.each(STORE_PAIRS)('evidence bundle on %s', (pair) => {
  let vault: TestVault;
  let visit: Visit;
  let auditor: string;
  let bundle: EvidenceBundle;
  let vkey: string;
  let rawKey: string;
  let dir: string;

  beforeAll(async () => {
    vault = await startTestVault(pair);
    dir = await mkdtemp(path.join(os.tmpdir(), 'vault-evidence-'));
    visit = await newVisit(vault);
    await uploadSealed(vault, visit);
    await approvedRequest(vault, visit.orderId);
    await newVisit(vault); // another order, whose entries stay out of this bundle
    auditor = await vault.addPrincipal({ id: 'evidence-auditor', roles: ['auditor'], department: 'audit' });
    const res = await request(vault.server).get(`/v1/orders/${visit.orderId}/evidence`).set(bearer(auditor));
    expect(res.status).toBe(200);
    bundle = res.body as EvidenceBundle;
    const key = (await request(vault.server).get('/v1/audit/log-key')).body as {
      verifierKey: string;
      publicKey: string;
    };
    vkey = key.verifierKey;
    rawKey = key.publicKey;
  });
  afterAll(async () => {
    await vault?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const verify = async (b: unknown, key = vkey) => {
    const file = path.join(dir, `bundle-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify(b));
    return offlineCli('evidence', 'verify', file, '--key', key);
  };
  const tampered = (edit: (b: EvidenceBundle) => void): EvidenceBundle => {
    const copy = structuredClone(bundle);
    edit(copy);
    return copy;
  };

  it("holds the order's whole trail, proven to one checkpoint, its chunks and its sign-offs", async () => {
    const actions = bundle.entries.map((e) => e.entry.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'order.registered',
        'consent.recorded',
        'recording.started',
        'chunk.stored',
        'recording.sealed',
        'access_request.filed',
        'access_request.decided',
      ]),
    );
    expect(bundle.entries.every((e) => e.entry.orderId === visit.orderId)).toBe(true);
    expect(bundle.recordings).toHaveLength(1);
    const [rec] = bundle.recordings;
    expect(rec?.chunks.length).toBeGreaterThan(1);
    expect(rec?.chunksRoot).toBe(rec?.receipt?.chunksRoot);
    expect(bundle.accessRequests).toHaveLength(1);
    expect(bundle.accessRequests[0]?.decisions).toHaveLength(2);
    expect(bundle.accessRequests[0]?.decisions.every((d) => d.signature && d.signerPublicKey)).toBe(true);
    expect(bundle.signingKeys.map((k) => k.entry.action)).toEqual([
      'principal.signing_key_set',
      'principal.signing_key_set',
    ]);
    const size = Number(bundle.checkpoint.split('\n')[1]);
    expect(bundle.entries.every((e) => e.index < size)).toBe(true);
  });

  it('verifies offline with the verifier key or the raw public key', async () => {
    const [line] = await verify(bundle);
    expect(JSON.parse(line!)).toMatchObject({
      ok: true,
      entries: bundle.entries.length,
      recordings: 1,
      accessRequests: 1,
    });
    const [again] = await verify(bundle, rawKey);
    expect(JSON.parse(again!)).toMatchObject({ ok: true });
  });

  it('fails, with a reason, on any change to what it proves', async () => {
    const sealedAt = bundle.entries.findIndex((e) => e.entry.action === 'recording.sealed');
    const cases: [string, EvidenceBundle, RegExp][] = [
      [
        'an entry',
        tampered((b) => {
          b.entries[0]!.entry.actorId = 'mallory';
        }),
        /inclusion proof does not lead/,
      ],
      [
        'a proof hash',
        tampered((b) => {
          const e = b.entries.find((x) => x.inclusion.length > 0)!;
          e.inclusion[0] = flipHex(e.inclusion[0]!);
        }),
        /inclusion proof does not lead/,
      ],
      [
        'an index',
        tampered((b) => {
          b.entries[sealedAt]!.index += 1;
        }),
        /inclusion proof|index given twice/,
      ],
      [
        'the checkpoint',
        tampered((b) => {
          b.checkpoint = b.checkpoint.replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) + 1}\n`);
        }),
        /checkpoint: signature does not verify/,
      ],
      [
        'a manifest hash',
        tampered((b) => {
          b.recordings[0]!.chunks[1]!.sha256 = flipHex(b.recordings[0]!.chunks[1]!.sha256);
        }),
        /do not make its chunksRoot|differs from its chunk.stored/,
      ],
      [
        'a manifest root and every chunk with it',
        tampered((b) => {
          const r = b.recordings[0]!;
          r.chunks.pop();
          r.chunksRoot = flipHex(r.chunksRoot);
        }),
        /chunksRoot/,
      ],
      [
        'the receipt signature',
        tampered((b) => {
          const r = b.recordings[0]!.receipt!;
          r.signature = `${r.signature[0] === 'A' ? 'B' : 'A'}${r.signature.slice(1)}`;
        }),
        /receipt's signature does not verify/,
      ],
      [
        'a sign-off',
        tampered((b) => {
          b.accessRequests[0]!.decisions[0]!.deciderId = 'someone-else';
        }),
        /no proven decision entry/,
      ],
      [
        "a request's reason",
        tampered((b) => {
          b.accessRequests[0]!.reason = 'another reason';
        }),
        /reason differs/,
      ],
      [
        'a sign-off signature',
        tampered((b) => {
          const d = b.accessRequests[0]!.decisions[1]!;
          d.signature = `${d.signature![0] === 'A' ? 'B' : 'A'}${d.signature!.slice(1)}`;
        }),
        /its signature does not verify/,
      ],
      [
        "a request's digest",
        tampered((b) => {
          b.accessRequests[0]!.digest = flipHex(b.accessRequests[0]!.digest);
        }),
        /digest is not the digest of its fields/,
      ],
      [
        "a signer's key, swapped for another",
        tampered((b) => {
          const [d0, d1] = b.accessRequests[0]!.decisions;
          d0!.signerPublicKey = d1!.signerPublicKey;
        }),
        /signature does not verify|registered/,
      ],
      [
        "the log entry of a signer's key",
        tampered((b) => {
          b.signingKeys = [];
        }),
        /its key was not registered/,
      ],
      [
        'a signature removed',
        tampered((b) => {
          delete b.accessRequests[0]!.decisions[0]!.signature;
        }),
        /is not signed/,
      ],
      [
        'an entry of another order',
        tampered((b) => {
          b.entries[0]!.entry.orderId = 'other-order';
        }),
        /belongs to order/,
      ],
    ];
    for (const [what, b, reason] of cases) {
      const failure = await verify(b).then(
        () => 'it verified',
        (err: Error) => err.message,
      );
      expect(failure, what).toMatch(/the evidence bundle does not verify/);
      expect(failure, what).toMatch(reason);
    }
  });

  it('fails with another log key, a malformed key, or a file that is not a bundle', async () => {
    const other = tampered(() => undefined);
    await expect(verify(other, Buffer.alloc(32, 9).toString('base64url'))).rejects.toThrow(
      /checkpoint: (signature does not verify|no signature)/,
    );
    await expect(verify(other, 'not-a-key')).rejects.toThrow(/neither a C2SP verifier key/);
    await expect(verify({ hello: 'world' })).rejects.toThrow(/not an evidence bundle/);
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{ not json');
    await expect(offlineCli('evidence', 'verify', file, '--key', vkey)).rejects.toThrow(/cannot read the bundle/);
  });

  it('is for auditors and security heads, and 404 for an unknown order', async () => {
    expect((await request(vault.server).get('/v1/orders/no-such-order/evidence').set(bearer(auditor))).status).toBe(
      404,
    );
    expect(
      (await request(vault.server).get(`/v1/orders/${visit.orderId}/evidence`).set(bearer(visit.platformToken))).status,
    ).toBe(403);
  });
});
