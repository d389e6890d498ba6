import { generateKekEntry } from '../crypto/keyring.js';
import { destroyableAt } from '../domain/epochs.js';
import { assertKeysAvailable, rewrapEpochKeys } from '../domain/key-rotation.js';
import { epochKekVersions, liveEpochs } from '../store/db/epochs.js';
import { storedKekVersions } from '../store/db/order-keys.js';
import type { RegisterCommands } from './context.js';
import { withDeps } from './with-deps.js';

/** `keys status|generate|rewrap|epochs`: KEK rotation and epoch keys from the command line. */
export const registerKeysCommands: RegisterCommands = (program, ctx) => {
  const keys = program.command('keys').description('key-encryption keys (KEKs), epoch keys and their rotation');

  keys
    .command('status')
    .description('configured KEK versions and how many stored keys each version wraps')
    .action(() =>
      withDeps(ctx, async (deps) => {
        ctx.out(
          `configured KEK versions: ${deps.keyring.versions().join(', ')} (current: ${deps.keyring.current.version})`,
        );
        const flag = (version: number) => (deps.keyring.get(version) ? '' : '  (NOT CONFIGURED)');
        for (const v of await epochKekVersions(deps.db))
          ctx.out(`version ${v.version}: ${v.epochs} epoch keys${flag(v.version)}`);
        for (const v of await storedKekVersions(deps.db))
          ctx.out(`version ${v.version}: ${v.orders} order keys not yet moved under epoch keys${flag(v.version)}`);
      }),
    );

  keys
    .command('generate')
    .description('print a new random KEK entry to append to VAULT_KEKS (printed here only, never logged)')
    .requiredOption('--version <n>', 'version number for the new KEK (one above the newest configured)', (v) =>
      Number.parseInt(v, 10),
    )
    .action(async (opts: { version: number }) => {
      if (!Number.isInteger(opts.version) || opts.version < 1)
        throw new Error('--version must be a positive whole number');
      ctx.out(await generateKekEntry(opts.version));
    });

  keys
    .command('rewrap')
    .description('rewrap every live epoch key under the newest KEK; resumable; touches no order key and no audio')
    .option('--batch-size <n>', 'epoch keys per transaction', (v) => Number.parseInt(v, 10), 50)
    .action((opts: { batchSize: number }) =>
      withDeps(ctx, async (deps) => {
        if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
          throw new Error('--batch-size must be a positive whole number');
        const { rewrapped, missing, toVersion } = await rewrapEpochKeys(deps, {
          batchSize: opts.batchSize,
          actorId: ctx.actorId,
        });
        ctx.out(`rewrapped ${rewrapped} epoch keys under KEK version ${toVersion}`);
        if (missing.length > 0) ctx.out(`not in the epoch key store (nothing to rewrap): ${missing.join(', ')}`);
        await assertKeysAvailable(deps.db, deps.keyring);
      }),
    );

  keys
    .command('epochs')
    .description('live epoch keys: how many orders each wraps and when it will be destroyed')
    .action(() =>
      withDeps(ctx, async (deps) => {
        const window = deps.config.backupWindowMs;
        const now = deps.clock.now();
        ctx.out('epoch\tends\torders\tcovered\tdestroyed');
        for (const e of await liveEpochs(deps.db)) {
          const at = destroyableAt(e, window);
          let when: string;
          if (!at) when = 'after its hold is lifted, plus the backup window';
          else if (at.getTime() > now.getTime()) when = `at ${at.toISOString()}`;
          else if (e.orders > 0) when = `once its ${e.orders} orders have moved on or expired`;
          else when = 'at the next sweep';
          ctx.out([e.id, e.endsAt?.toISOString() ?? '-', e.orders, e.covered, when].join('\t'));
        }
      }),
    );
};
