import { ROLES, type Role } from '../domain/principal.js';
import { createPrincipal, revokePrincipal } from '../domain/principals.js';
import { clearSigningKey } from '../domain/signing-keys.js';
import { listPrincipals } from '../store/db/principals.js';
import type { RegisterCommands } from './context.js';
import { withDeps } from './with-deps.js';

const asRoles = (text: string): Role[] => {
  const roles = text.split(',').map((r) => r.trim());
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length > 0) throw new Error(`unknown roles: ${bad.join(', ')} (known: ${ROLES.join(', ')})`);
  return roles as Role[];
};

/** `principal add|list|revoke`: what an admin does through the API, from the server's shell. */
export const registerPrincipalCommands: RegisterCommands = (program, ctx) => {
  const principal = program.command('principal').description('principals and their tokens');
  const cliActor = () => ({
    id: ctx.actorId,
    name: ctx.actorId,
    department: 'administration',
    roles: ['admin' as const],
  });

  principal
    .command('add')
    .description('create a principal and print its token (shown once)')
    .requiredOption('--id <id>', 'principal id')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--department <department>', 'department')
    .requiredOption('--roles <roles>', `comma-separated: ${ROLES.join(', ')}`)
    .action((opts: { id: string; name: string; department: string; roles: string }) =>
      withDeps(ctx, async (deps) => {
        const { token } = await createPrincipal(deps, cliActor(), {
          id: opts.id,
          name: opts.name,
          department: opts.department,
          roles: asRoles(opts.roles),
        });
        ctx.out(token);
      }),
    );

  principal
    .command('list')
    .description('list principals (never tokens)')
    .action(() =>
      withDeps(ctx, async (deps) => {
        for (const p of await listPrincipals(deps.db))
          ctx.out(`${p.id}\t${p.department}\t${p.roles.join(',')}\t${p.revoked ? 'revoked' : 'active'}\t${p.name}`);
      }),
    );

  principal
    .command('revoke <id>')
    .description('revoke a principal and every token it holds')
    .action((id: string) =>
      withDeps(ctx, async (deps) => {
        await revokePrincipal(deps, cliActor(), id);
        ctx.out(`revoked ${id}`);
      }),
    );

  principal
    .command('clear-signing-key <id>')
    .description("clear a head's signing key so that the head can register a new one (audited)")
    .action((id: string) =>
      withDeps(ctx, async (deps) => {
        const cleared = await clearSigningKey(deps, cliActor(), id);
        ctx.out(`cleared signing key ${cleared.signingKeyId} of ${id}`);
      }),
    );
};
