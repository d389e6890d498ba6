import { type VerifyResult, verifyAudit } from '../../src/audit/verify.js';
import type { Vault } from '../../src/vault.js';

/** Sequences everything committed so far (no sleeps), then verifies the whole log against its signed checkpoints. */
export async function sequencedAndVerified(vault: Vault): Promise<VerifyResult> {
  await vault.sequenceNow();
  return verifyAudit(vault);
}
