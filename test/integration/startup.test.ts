import { rm } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { registerOrder } from '../../src/domain/orders.js';
import { createPrincipal } from '../../src/domain/principals.js';
import { startSweeper } from '../../src/domain/sweeper.js';
import { openVault } from '../../src/vault.js';
import { embeddedDataDir, stopLeftoverCluster, waitFor } from '../helpers/embedded.js';
import { fixedKeks } from '../helpers/vault.js';

/** openVault as the server runs it, on the embedded stores in a data dir. */
describe('vault start on embedded defaults', () => {
  let dataDir: string;
  const logger = pino({ level: 'silent' });
  beforeAll(async () => {
    dataDir = await embeddedDataDir('vault-start-');
  });
  afterAll(async () => {
    await stopLeftoverCluster(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('fails loudly at start when a stored wrap needs a KEK that is not configured', async () => {
    const config = loadConfig({
      VAULT_DATA_DIR: dataDir,
      VAULT_KEKS: await fixedKeks([1]),
      VAULT_BOOTSTRAP_ADMIN_TOKEN: 'vv_startup-bootstrap-token-0123456789',
    });
    const vault = await openVault(config, { logger });
    const admin = { id: 'bootstrap-admin', name: 'a', department: 'administration', roles: ['admin' as const] };
    await createPrincipal(vault, admin, { id: 'b1', name: 'b', department: 'field', roles: ['beautician'] });
    await registerOrder(
      vault,
      { id: 'p', name: 'p', department: 'x', roles: ['platform'] },
      { orderId: 'o1', beauticianId: 'b1', customerId: 'c', scheduledAt: '2026-11-24T10:00:00Z' },
    );
    await vault.close();

    const without = loadConfig({ VAULT_DATA_DIR: dataDir, VAULT_KEKS: await fixedKeks([2]) });
    await expect(openVault(without, { logger })).rejects.toThrow(/KEK version 1 \(1 epoch keys\)/);
    const both = loadConfig({ VAULT_DATA_DIR: dataDir, VAULT_KEKS: await fixedKeks([1, 2]) });
    const again = await openVault(both, { logger });
    await again.close();
  });

  it('runs the sweeper at start and on its interval, and stops cleanly', async () => {
    const config = loadConfig({
      VAULT_DATA_DIR: dataDir,
      VAULT_KEKS: await fixedKeks([1, 2]),
      VAULT_SWEEP_INTERVAL: '50ms',
    });
    const vault = await openVault(config, { logger, clock: new ManualClock() });
    const sweeper = startSweeper(vault, logger);
    const sweeps = async () =>
      (await vault.metrics.sweeperRuns.get()).values.find((v) => v.labels.outcome === 'ok')?.value ?? 0;
    // The one at start and one on the interval: waited for, not timed, so a busy machine is only slower.
    await waitFor('two sweeps', async () => (await sweeps()) >= 2);
    await sweeper.stop();
    expect(await sweeps()).toBeGreaterThanOrEqual(2);
    await vault.close();
  });
});
