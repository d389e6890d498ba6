import { readFile } from 'node:fs/promises';
import { listAudit } from '../audit/audit-log.js';
import { verifyAndRecord } from '../audit/verify.js';
import { registerAuditWatch } from './audit-watch.js';
import type { RegisterCommands } from './context.js';
import { withDeps } from './with-deps.js';

/** `audit verify|export`: check the log against its signed checkpoints, or dump it as JSON lines. */
export const registerAuditCommands: RegisterCommands = (program, ctx) => {
  const audit = program.command('audit').description('the audit log (a transparency log)');

  audit
    .command('verify')
    .description(
      'recompute the tree from the entries and check it against the newest signed checkpoint (stored and published); exits 1 when broken. With --checkpoint, also proves the log grew from that older checkpoint',
    )
    .option('--checkpoint <file>', 'an older signed checkpoint kept outside the vault (the note as served)')
    .action((opts: { checkpoint?: string }) =>
      withDeps(ctx, async (deps) => {
        const olderNote = opts.checkpoint === undefined ? undefined : await readFile(opts.checkpoint, 'utf8');
        const result = await verifyAndRecord(deps, ctx.actorId, { olderNote });
        ctx.out(JSON.stringify(result));
        if (!result.ok) process.exitCode = 1;
      }),
    );

  registerAuditWatch(audit, ctx);

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
