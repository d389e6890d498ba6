import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { decisionSignatureValid, signingKeyFromSeed } from '../../src/crypto/decision-signature.js';
import { bearer, newVisit } from '../helpers/actors.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/** `vault keys signing-keygen` and `vault sign-off` against a running vault, as a head would use them. */
describe('signing CLI', () => {
  let vault: TestVault;
  let dir: string;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
    dir = await mkdtemp(path.join(os.tmpdir(), 'vault-sign-cli-'));
  });
  afterAll(async () => {
    await vault?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function cli(env: Record<string, string>, ...args: string[]): Promise<string[]> {
    const lines: string[] = [];
    const program = buildProgram({
      openDeps: async () => ({ ...vault.deps, close: async () => undefined }),
      out: (l) => lines.push(l),
      actorId: 'cli:ops',
      env,
    });
    const quiet = (c: Command): void => {
      c.exitOverride().configureOutput({ writeErr: () => undefined });
      c.commands.forEach(quiet);
    };
    quiet(program);
    await program.parseAsync(['node', 'vault', ...args]);
    return lines;
  }

  it('makes a key file only its owner reads, and prints the public key and its id', async () => {
    const out = path.join(dir, 'k1');
    const lines = await cli({}, 'keys', 'signing-keygen', '--out', out);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const key = await signingKeyFromSeed((await readFile(out, 'utf8')).trim());
    expect(lines).toEqual([`public key: ${key.publicKey}`, `key id: ${key.keyId}`]);
    await expect(cli({}, 'keys', 'signing-keygen', '--out', out)).rejects.toThrow(/EEXIST/);
  });

  it('signs off a request: registers the key on first use, signs the digest, the vault verifies it', async () => {
    const { orderId } = await newVisit(vault);
    const staff = await vault.addPrincipal({ id: 'cli-staff', roles: ['dispute_staff'], department: 'disputes' });
    const dh = await vault.addPrincipal({ id: 'cli-dh', roles: ['department_head'], department: 'disputes' });
    const sh = await vault.addPrincipal({ id: 'cli-sh', roles: ['security_head'], department: 'security' });
    const filed = await request(vault.server)
      .post('/v1/access-requests')
      .set(bearer(staff))
      .send({ orderId, purpose: 'dispute', reason: 'complaint', ticketRef: 'T-1' });
    const id = filed.body.id as string;
    const dhKey = path.join(dir, 'dh');
    const shKey = path.join(dir, 'sh');
    await cli({}, 'keys', 'signing-keygen', '--out', dhKey);
    await cli({}, 'keys', 'signing-keygen', '--out', shKey);
    const env = (token: string) => ({ VAULT_URL: vault.baseUrl, VAULT_TOKEN: token });

    const first = await cli(env(dh), 'sign-off', id, '--approve', '--comment', '  ticket checked ', '--key', dhKey);
    expect(first).toEqual([
      expect.stringMatching(/^registered signing key \S+ for cli-dh$/),
      `request ${id} is pending`,
    ]);
    await expect(
      cli(env(sh), 'sign-off', id, '--approve', '--reject', '--comment', 'x', '--key', shKey),
    ).rejects.toThrow(/exactly one/);
    await expect(
      cli({ VAULT_URL: vault.baseUrl }, 'sign-off', id, '--approve', '--comment', 'x', '--key', shKey),
    ).rejects.toThrow(/VAULT_TOKEN/);
    // A head whose registered key is another than the file's is told to ask an admin.
    await expect(cli(env(dh), 'sign-off', id, '--approve', '--comment', 'x', '--key', shKey)).rejects.toThrow(
      /ask an admin/,
    );
    const second = await cli(env(sh), 'sign-off', id, '--approve', '--comment', 'purpose ok', '--key', shKey);
    expect(second.at(-1)).toBe(`request ${id} is approved`);

    const read = await request(vault.server).get(`/v1/access-requests/${id}`).set(bearer(sh));
    expect(read.body.decisions.map((d: { comment: string }) => d.comment)).toEqual(['ticket checked', 'purpose ok']);
    for (const d of read.body.decisions)
      expect(
        await decisionSignatureValid(
          {
            requestId: id,
            requestDigest: read.body.digest,
            decision: d.decision,
            comment: d.comment,
            signerId: d.deciderId,
          },
          d.signature,
          d.signerPublicKey,
        ),
      ).toBe(true);
  });

  it('refuses a key file others can read', async () => {
    const loose = path.join(dir, 'loose');
    await writeFile(loose, `${Buffer.alloc(32, 1).toString('base64url')}\n`, { mode: 0o644 });
    await expect(
      cli(
        { VAULT_URL: vault.baseUrl, VAULT_TOKEN: 'x'.repeat(20) },
        'sign-off',
        'req_x',
        '--reject',
        '--comment',
        'no',
        '--key',
        loose,
      ),
    ).rejects.toThrow(/chmod 600/);
  });

  it('clears a signing key from the server shell (principal clear-signing-key), audited as the CLI user', async () => {
    const lines = await cli({}, 'principal', 'clear-signing-key', 'cli-dh');
    expect(lines).toEqual([expect.stringMatching(/^cleared signing key \S+ of cli-dh$/)]);
    const [entry] = await vault.deps.db.query<{ actor_id: string }>(
      `SELECT actor_id FROM audit_log WHERE action = 'principal.signing_key_cleared' AND details->>'principalId' = 'cli-dh'`,
    );
    expect(entry?.actor_id).toBe('cli:ops');
  });
});
