import { generateKekEntry } from '../crypto/keyring.js';
import { assertKeysAvailable, rewrapOrderKeys } from '../domain/key-rotation.js';
import { storedKekVersions } from '../store/db/order-keys.js';
import type { RegisterCommands } from './context.js';
import { withDeps } from './with-deps.js';

/** `keys status|generate|rewrap`: KEK rotation from the command line. */
export const registerKeysCommands: RegisterCommands = (program, ctx) => {
  const keys = program.command('keys').description('key-encryption keys (KEKs) and order-key rotation');

  keys
    .command('status')
    .description('configured KEK versions and how many order keys each stored version wraps')
    .action(() =>
      withDeps(ctx, async (deps) => {
        ctx.out(
          `configured KEK versions: ${deps.keyring.versions().join(', ')} (current: ${deps.keyring.current.version})`,
        );
        for (const v of await storedKekVersions(deps.db)) {
          ctx.out(
            `version ${v.version}: ${v.orders} order keys${deps.keyring.get(v.version) ? '' : '  (NOT CONFIGURED)'}`,
          );
        }
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
    .description('rewrap every order key under the newest KEK, in batches; resumable; touches no audio')
    .option('--batch-size <n>', 'order keys per transaction', (v) => Number.parseInt(v, 10), 500)
    .action((opts: { batchSize: number }) =>
      withDeps(ctx, async (deps) => {
        if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
          throw new Error('--batch-size must be a positive whole number');
        const { rewrapped, toVersion } = await rewrapOrderKeys(deps, {
          batchSize: opts.batchSize,
          actorId: ctx.actorId,
        });
        ctx.out(`rewrapped ${rewrapped} order keys under KEK version ${toVersion}`);
        await assertKeysAvailable(deps.db, deps.keyring);
      }),
    );
};
