import { appendAudit, listAudit, verifyAudit } from '../audit/audit-log.js';
import type { RegisterCommands } from './context.js';
import { withDeps } from './with-deps.js';

/** `audit verify|export`: check the chain, or dump it as JSON lines. */
export const registerAuditCommands: RegisterCommands = (program, ctx) => {
  const audit = program.command('audit').description('the hash-chained audit log');

  audit
    .command('verify')
    .description('verify the whole chain; exits 1 when broken')
    .action(() =>
      withDeps(ctx, async (deps) => {
        const result = await verifyAudit(deps.db);
        await deps.db.transaction((tx) => appendAudit(tx, deps.clock.now(), { actorId: ctx.actorId, action: 'audit.verified', outcome: 'ok', details: { ...result } }));
        ctx.out(JSON.stringify(result));
        if (!result.ok) process.exitCode = 1;
      }),
    );

  audit
    .command('export')
    .description('print entries as JSON lines, oldest first')
    .option('--order <orderId>', 'only this order')
    .action((opts: { order?: string }) =>
      withDeps(ctx, async (deps) => {
        let afterId = 0;
        for (;;) {
          const page = await listAudit(deps.db, { orderId: opts.order, afterId, limit: 1000 });
          for (const e of page.entries) ctx.out(JSON.stringify(e));
          if (!page.nextAfter) return;
          afterId = Number(page.nextAfter);
        }
      }),
    );
};
