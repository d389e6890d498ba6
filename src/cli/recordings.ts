import { recordingsOfOrderAt } from '../domain/recordings.js';
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
        const { recordings } = await recordingsOfOrderAt(deps.db, opts.order, deps.clock.now());
        for (const r of recordings) ctx.out(JSON.stringify(r));
      }),
    );
};
