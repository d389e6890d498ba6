import { toMetadata } from '../domain/recordings.js';
import { listRecordingsOfOrder } from '../store/db/recordings.js';
import type { RegisterCommands } from './context.js';
import { withDeps } from './with-deps.js';

/** `recordings list --order <id>`: metadata only, never key material. */
export const registerRecordingCommands: RegisterCommands = (program, ctx) => {
  program
    .command('recordings')
    .description('recording metadata')
    .command('list')
    .description("an order's recordings as JSON lines: status, sizes, times, retainUntil (never key material)")
    .requiredOption('--order <orderId>', 'the order')
    .action((opts: { order: string }) =>
      withDeps(ctx, async (deps) => {
        for (const r of await listRecordingsOfOrder(deps.db, opts.order)) ctx.out(JSON.stringify(toMetadata(r)));
      }),
    );
};
