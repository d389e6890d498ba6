import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import canonicalize from 'canonicalize';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/audit/checkpoint.js';
import { verifyConsistency, verifyInclusion } from '../../src/crypto/merkle.js';
import { parseVerifierKey } from '../../src/crypto/signed-note.js';
import { openPostgres } from '../../src/store/db/postgres.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { TEST_DATABASE_URL } from '../helpers/postgres.js';
import { rfc9162 } from '../helpers/rfc9162.js';
import { STORE_PAIRS, startTestVault, type TestVault } from '../helpers/vault.js';

interface Entry {
  id: string;
  at: string;
  actorId: string | null;
  action: string;
  outcome: string;
  orderId: string | null;
  recordingId: string | null;
  details: Record<string, unknown>;
  index: number | null;
}

const hex = (b: Buffer) => b.toString('hex');
const unhex = (hashes: string[]) => hashes.map((h) => Buffer.from(h, 'hex'));

/** The leaf hash computed here, with another RFC 8785 implementation than the vault's. */
function leafOf(e: Entry): Buffer {
  const { index: _index, ...content } = e;
  const canonical = canonicalize(content);
  if (canonical === undefined) throw new Error('not canonicalizable');
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(canonical, 'utf8')
    .digest();
}

/** A C2SP checkpoint checked by hand with node:crypto: text, key id, Ed25519 signature. */
function checkByHand(note: string, origin: string, publicKey: Buffer): { size: number; root: Buffer } {
  const [text, sigs] = note.split('\n\n') as [string, string];
  const [o, size, root] = text.split('\n') as [string, string, string];
  expect(o).toBe(origin);
  const match = /^\u2014 (\S+) (\S+)\n$/.exec(sigs);
  expect(match?.[1]).toBe(origin);
  const blob = Buffer.from(match?.[2] ?? '', 'base64');
  const keyId = createHash('sha256')
    .update(origin)
    .update(Buffer.from([0x0a, 0x01]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
  expect(hex(blob.subarray(0, 4))).toBe(hex(keyId));
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') },
    format: 'jwk',
  });
  expect(verifySignature(null, Buffer.from(`${text}\n`, 'utf8'), key, blob.subarray(4))).toBe(true);
  return { size: Number(size), root: Buffer.from(root, 'base64') };
}

describe.each(STORE_PAIRS)('the audit log as a transparency log on %s', (pair) => {
  let vault: TestVault;
  let auditor: string;
  beforeAll(async () => {
    vault = await startTestVault(pair);
    auditor = await vault.addPrincipal({ id: 'tlog-auditor', roles: ['auditor'], department: 'audit' });
  });
  afterAll(async () => vault?.close());

  const get = (url: string, token = auditor) => request(vault.server).get(url).set(bearer(token));
  const allEntries = async (): Promise<Entry[]> => {
    const out: Entry[] = [];
    let after = '';
    for (;;) {
      const page = await get(`/v1/audit?limit=1000${after ? `&after=${after}` : ''}`);
      out.push(...(page.body.entries as Entry[]));
      if (!page.body.nextAfter) return out;
      after = page.body.nextAfter as string;
    }
  };

  it('signs a checkpoint anyone can check with the published log key, and proves every entry', async () => {
    await newVisit(vault);
    await vault.deps.sequenceNow();
    const keyRes = await request(vault.server).get('/v1/audit/log-key');
    expect(keyRes.status).toBe(200);
    const { origin, publicKey, keyId, verifierKey } = keyRes.body as {
      origin: string;
      publicKey: string;
      keyId: string;
      verifierKey: string;
    };
    expect(origin).toBe(vault.config.logOrigin);
    const cpRes = await request(vault.server).get('/v1/audit/checkpoint');
    expect(cpRes.status).toBe(200);
    expect(cpRes.headers['content-type']).toMatch(/^text\/plain/);
    const note = cpRes.text;
    const byHand = checkByHand(note, origin, Buffer.from(publicKey, 'base64url'));
    expect(Buffer.from(keyId, 'base64url').length).toBe(4);
    const opened = await openCheckpoint(note, parseVerifierKey(verifierKey)!);
    expect(opened).toMatchObject({ ok: true, size: byHand.size });

    const entries = (await allEntries()).filter((e) => e.index !== null && e.index < byHand.size);
    expect(entries.length).toBe(byHand.size);
    entries.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const leaves = entries.map(leafOf);
    const ref = rfc9162(leaves);
    expect(hex(ref.MTH(byHand.size))).toBe(hex(byHand.root));
    for (const e of entries) {
      const res = await get(`/v1/audit/entries/${e.index}/inclusion?treeSize=${byHand.size}`);
      expect(res.status).toBe(200);
      expect(res.body.leafHash).toBe(hex(leafOf(e)));
      const hashes = unhex(res.body.hashes as string[]);
      expect(verifyInclusion(leafOf(e), e.index!, byHand.size, hashes, byHand.root)).toBe(true);
      expect(res.body.hashes).toEqual(ref.PATH(e.index!, byHand.size).map(hex));
    }
    for (let m = 0; m <= byHand.size; m++) {
      const res = await get(`/v1/audit/consistency?from=${m}&to=${byHand.size}`);
      expect(res.status).toBe(200);
      expect(res.body.hashes).toEqual(ref.PROOF(m, byHand.size).map(hex));
      if (m > 0)
        expect(verifyConsistency(m, byHand.size, ref.MTH(m), byHand.root, unhex(res.body.hashes as string[]))).toBe(
          true,
        );
    }
  });

  it('publishes every checkpoint outside the database', async () => {
    await newVisit(vault);
    await vault.deps.sequenceNow();
    const stored = await vault.deps.db.query<{ tree_size: number; note: string; published_at: Date | null }>(
      'SELECT tree_size, note, published_at FROM audit_checkpoints ORDER BY tree_size',
    );
    expect(stored.length).toBeGreaterThan(1);
    for (const c of stored) {
      expect(c.published_at).not.toBeNull();
      expect(await vault.deps.checkpoints.get(c.tree_size)).toBe(c.note);
    }
    expect(await vault.deps.checkpoints.latest()).toBe(stored.at(-1)?.note);
    expect(vault.deps.checkpoints.lock).toBe('none'); // neither a directory nor s3rver has Object Lock
  });

  it('answers bad proof requests with 400 naming the field, and only to auditors', async () => {
    await vault.deps.sequenceNow();
    const size = Number((await request(vault.server).get('/v1/audit/checkpoint')).text.split('\n')[1]);
    for (const [url, field] of [
      [`/v1/audit/entries/0/inclusion?treeSize=${size + 1}`, 'treeSize'],
      ['/v1/audit/entries/0/inclusion?treeSize=0', 'treeSize'],
      ['/v1/audit/entries/0/inclusion?treeSize=-1', 'treeSize'],
      ['/v1/audit/entries/0/inclusion', 'treeSize'],
      [`/v1/audit/entries/${size}/inclusion?treeSize=${size}`, 'index'],
      ['/v1/audit/entries/x/inclusion?treeSize=1', 'index'],
      [`/v1/audit/consistency?from=1&to=${size + 1}`, 'to'],
      [`/v1/audit/consistency?from=${size}&to=1`, 'from'],
      ['/v1/audit/consistency?from=01&to=2', 'from'],
      ['/v1/audit/consistency?from=1e3&to=2', 'from'],
    ] as const) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.field, url).toBe(field);
    }
    const staff = await vault.addPrincipal({ id: 'tlog-staff', roles: ['dispute_staff'], department: 'ops' });
    expect((await get('/v1/audit/entries/0/inclusion?treeSize=1', staff)).status).toBe(403);
    expect((await get('/v1/audit/consistency?from=0&to=1', staff)).status).toBe(403);
    expect((await request(vault.server).get('/v1/audit/consistency?from=0&to=1')).status).toBe(401);
  });

  it('sequences concurrent writers on two servers with two sequencers into one tree that never forks', async () => {
    const db2 = openPostgres({ connectionString: TEST_DATABASE_URL, schema: vault.stores.postgresSchema });
    const second = await startTestVault(pair, {}, { stores: { ...vault.stores, db: db2 } });
    const workers = [vault.deps.startWorkers(), second.deps.startWorkers()];
    try {
      const before = await vault.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
      const platformA = await vault.addPrincipal({ id: 'tlog-platform-a', roles: ['platform'] });
      await vault.addPrincipal({ id: 'tlog-beautician', roles: ['beautician'] });
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) => {
          const on = i % 2 === 0 ? vault : second;
          return request(on.server)
            .post('/v1/orders')
            .set(bearer(platformA))
            .send({
              orderId: `tlog-${pair.replace('+', '-')}-${i}`,
              beauticianId: 'tlog-beautician',
              customerId: 'c',
              scheduledAt: '2026-11-24T10:00:00Z',
            });
        }),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
      await Promise.all([vault.deps.sequenceNow(), second.deps.sequenceNow()]);
      const rows = await vault.deps.db.query<{ leaf_index: number | null }>(
        'SELECT leaf_index FROM audit_log ORDER BY leaf_index',
      );
      expect(rows.length).toBeGreaterThanOrEqual((before[0]?.n ?? 0) + 26);
      expect(rows.map((r) => r.leaf_index)).toEqual(rows.map((_, i) => i));
      // Every checkpoint either server signed is consistent with every later one.
      const cps = await vault.deps.db.query<{ tree_size: number; root_hash: Buffer }>(
        'SELECT tree_size, root_hash FROM audit_checkpoints ORDER BY tree_size',
      );
      const last = cps.at(-1)!;
      expect(last.tree_size).toBe(rows.length);
      for (const c of cps) {
        const proof = await get(`/v1/audit/consistency?from=${c.tree_size}&to=${last.tree_size}`);
        expect(
          verifyConsistency(c.tree_size, last.tree_size, c.root_hash, last.root_hash, unhex(proof.body.hashes)),
          `checkpoint ${c.tree_size}`,
        ).toBe(true);
      }
      expect((await get('/v1/audit/verify')).body).toMatchObject({ ok: true, treeSize: last.tree_size });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await second.close();
      await db2.close();
    }
  });

  it('signs within VAULT_AUDIT_MAX_DELAY with the background sequencer', async () => {
    const workers = vault.deps.startWorkers();
    try {
      await newVisit(vault);
      const [{ id } = { id: '0' }] = await vault.deps.db.query<{ id: string }>(
        'SELECT max(id)::text AS id FROM audit_log',
      );
      const started = Date.now();
      for (;;) {
        const [row] = await vault.deps.db.query<{ leaf_index: number | null }>(
          'SELECT leaf_index FROM audit_log WHERE id = $1',
          [id],
        );
        if (row?.leaf_index !== null && row?.leaf_index !== undefined) break;
        expect(Date.now() - started).toBeLessThan(vault.config.auditMaxDelayMs + 2000);
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await workers.stop();
    }
  });
});
