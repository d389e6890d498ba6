import { readFile } from 'node:fs/promises';
import { verifyEvidence } from '../audit/evidence-verify.js';
import type { RegisterCommands } from './context.js';

/** A check the CLI ran failed: main prints the message and exits 1. */
export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

/** `evidence verify`: checks an evidence bundle offline, with only the log's public key (no server, no database). */
export const registerEvidenceCommands: RegisterCommands = (program, ctx) => {
  const evidence = program.command('evidence').description("an order's evidence bundle (GET /v1/orders/:id/evidence)");

  evidence
    .command('verify')
    .description(
      'verify a bundle offline: every entry proven in the signed checkpoint, every chunk and sign-off tied to a proven entry; exits 1 with the reasons when anything does not hold',
    )
    .argument('<bundle>', 'the bundle file (JSON)')
    .requiredOption(
      '--key <vkey>',
      "the log's public key: the C2SP verifier key (origin+id+key) or the raw Ed25519 key in base64url",
    )
    .option(
      '--allow-unsigned',
      'accept sign-offs without a signature (a vault with VAULT_REQUIRE_SIGNED_DECISIONS=false)',
    )
    .action(async (bundlePath: string, opts: { key: string; allowUnsigned?: boolean }) => {
      let json: unknown;
      try {
        json = JSON.parse(await readFile(bundlePath, 'utf8'));
      } catch (err) {
        throw new CheckFailed(
          `cannot read the bundle ${bundlePath}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const keyText = opts.key.startsWith('@') ? (await readFile(opts.key.slice(1), 'utf8')).trim() : opts.key;
      const result = await verifyEvidence(json, keyText, { allowUnsigned: opts.allowUnsigned === true });
      if (!result.ok) {
        for (const f of result.failures) ctx.out(`FAIL ${f}`);
        throw new CheckFailed(
          `the evidence bundle does not verify (${result.failures.length} problem${result.failures.length === 1 ? '' : 's'}): ${result.failures.join('; ')}`,
        );
      }
      ctx.out(JSON.stringify(result));
    });
};
