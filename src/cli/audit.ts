import { InvalidArgumentError } from 'commander';
import { type ChainHead, listAudit, verifyAndRecord } from '../audit/audit-log.js';
import type { RegisterCommands } from './context.js';
import { withDeps } from './with-deps.js';

function parseAnchor(text: string): ChainHead {
  const match = /^([0-9]{1,15}):([0-9a-f]{64})$/.exec(text);
  if (!match?.[1] || !match[2])
    throw new InvalidArgumentError('--anchor takes id:hash, as printed in "head" by an earlier verify');
  return { id: match[1], hash: match[2] };
}

/** `audit verify|export`: check the chain, or dump it as JSON lines. */
export const registerAuditCommands: RegisterCommands = (program, ctx) => {
  const audit = program.command('audit').description('the hash-chained audit log');

  audit
    .command('verify')
    .description(
      'verify the whole chain; exits 1 when broken. Keep the printed head: passed back later as --anchor, it shows whether the chain was cut back',
    )
    .option('--anchor <id:hash>', 'a head from an earlier check, as id:hash', parseAnchor)
    .action((opts: { anchor?: ChainHead }) =>
      withDeps(ctx, async (deps) => {
        const result = await verifyAndRecord(deps.db, deps.clock.now(), ctx.actorId, opts.anchor);
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
