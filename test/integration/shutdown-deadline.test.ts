import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeGracefully } from '../../src/shutdown.js';
import { newVisit } from '../helpers/actors.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

/**
 * The shutdown's other half (graceful-shutdown.test.ts shows in-flight work
 * finishing): a client that stalls mid-upload cannot hold the process past
 * the deadline, and an idle keep-alive connection does not wait at all.
 */
describe('closeGracefully', () => {
  let vault: TestVault;
  beforeAll(async () => {
    vault = await startTestVault('postgres+fs');
  });
  afterAll(async () => vault?.close());

  it('cuts a stalled upload at the deadline, closes idle keep-alive connections at once, and refuses new ones', async () => {
    const visit = await newVisit(vault);
    const started = await fetch(`${vault.baseUrl}/v1/orders/${visit.orderId}/recordings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${visit.beauticianToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sealedContentKey: 'A'.repeat(107), mimeType: 'audio/ogg' }),
    });
    const { recordingId } = (await started.json()) as { recordingId: string };

    // An idle keep-alive connection: one answered request, socket left open.
    const agent = new http.Agent({ keepAlive: true });
    let idleClosedAt: number | null = null;
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${vault.baseUrl}/healthz`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('socket', (socket) => socket.once('close', () => (idleClosedAt = Date.now())));
      req.on('error', reject);
    });

    // A stalled upload: headers and half the body, then nothing.
    const stalled = new Promise<string>((resolve) => {
      const req = http.request(`${vault.baseUrl}/v1/recordings/${recordingId}/chunks/0`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${visit.beauticianToken}`,
          'content-type': 'application/octet-stream',
          'content-length': '2000',
        },
      });
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (err) => resolve(`cut: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      req.write(Buffer.alloc(1000, 1));
    });
    await new Promise((r) => setTimeout(r, 100));

    let deadlineReached = false;
    const t0 = Date.now();
    const closed = closeGracefully(vault.server, { deadlineMs: 400, onDeadline: () => (deadlineReached = true) });
    await new Promise((r) => setTimeout(r, 150));
    expect(idleClosedAt, 'the idle keep-alive connection is closed at once').not.toBeNull();
    expect(idleClosedAt! - t0).toBeLessThan(150);
    await expect(fetch(`${vault.baseUrl}/healthz`)).rejects.toThrow();
    await closed;
    const took = Date.now() - t0;
    expect(deadlineReached).toBe(true);
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(2_000);
    expect(await stalled).toMatch(/^cut: /);
    agent.destroy();
  });
});
