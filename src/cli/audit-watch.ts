import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { type Checkpoint, openCheckpoint } from '../audit/checkpoint.js';
import { logVerifierFrom } from '../audit/evidence-verify.js';
import { verifierKey as verifierKeyText } from '../crypto/log-key.js';
import { verifyConsistency } from '../crypto/merkle.js';
import type { NoteVerifier } from '../crypto/signed-note.js';
import type { CliContext } from './context.js';
import { CheckFailed } from './evidence.js';

/**
 * @module
 * `vault audit watch`: a monitor kept outside the vault. It fetches the
 * newest checkpoint, checks its signature, proves the log only grew since
 * the checkpoint kept in the state file (RFC 9162 consistency proof), and
 * keeps the new one. A smaller tree (rollback) or an unprovable one (fork)
 * fails loudly and leaves the state file as it was.
 */
interface WatchState {
  verifierKey: string;
  checkpoint: string;
}

async function readState(file: string): Promise<WatchState | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<WatchState>;
  if (typeof parsed.verifierKey !== 'string' || typeof parsed.checkpoint !== 'string')
    throw new CheckFailed(`${file} is not a watch state file`);
  return { verifierKey: parsed.verifierKey, checkpoint: parsed.checkpoint };
}

async function writeState(file: string, state: WatchState): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

async function fetchText(url: string, token?: string): Promise<string> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  if (!res.ok) throw new CheckFailed(`GET ${url}: ${res.status} ${text.slice(0, 200)}`);
  return text;
}

async function opened(note: string, verifier: NoteVerifier, what: string): Promise<Checkpoint> {
  const c = await openCheckpoint(note, verifier);
  if (!c.ok) throw new CheckFailed(`${what}: ${c.reason}`);
  return c;
}

interface WatchOptions {
  state: string;
  server: string;
  key?: string;
  token?: string;
}

export async function watchOnce(ctx: CliContext, opts: WatchOptions): Promise<void> {
  const base = opts.server.replace(/\/+$/, '');
  const state = await readState(opts.state);
  const note = await fetchText(`${base}/v1/audit/checkpoint`);
  let verifier: NoteVerifier | null;
  if (opts.key) verifier = logVerifierFrom(opts.key, note);
  else if (state) verifier = logVerifierFrom(state.verifierKey, note);
  else {
    // Trust on first use, said out loud: pin the key the server names, and keep it in the state file.
    const served = JSON.parse(await fetchText(`${base}/v1/audit/log-key`)) as { verifierKey?: string };
    verifier = logVerifierFrom(served.verifierKey ?? '', note);
    ctx.out(
      JSON.stringify({ warning: 'no --key given: pinned the log key the server named', key: served.verifierKey }),
    );
  }
  if (!verifier) throw new CheckFailed('the key is neither a C2SP verifier key nor a base64url Ed25519 key');
  const pinned = verifierKeyText(verifier.name, verifier.publicKey);
  if (state && state.verifierKey !== pinned)
    throw new CheckFailed(`--key is not the key ${opts.state} was kept with (${state.verifierKey})`);

  const current = await opened(note, verifier, 'the served checkpoint');
  if (state) {
    const kept = await opened(state.checkpoint, verifier, `the checkpoint in ${opts.state}`);
    if (current.size < kept.size)
      throw new CheckFailed(`rollback: the log now has ${current.size} entries, it had ${kept.size}`);
    if (current.size === kept.size && !current.rootHash.equals(kept.rootHash))
      throw new CheckFailed(`fork: two different signed roots for tree size ${kept.size}`);
    if (current.size > kept.size && kept.size > 0) {
      const proofText = await fetchText(
        `${base}/v1/audit/consistency?from=${kept.size}&to=${current.size}`,
        opts.token,
      );
      const proof = (JSON.parse(proofText) as { hashes?: string[] }).hashes ?? [];
      const hashes = proof.map((h) => Buffer.from(h, 'hex'));
      if (!verifyConsistency(kept.size, current.size, kept.rootHash, current.rootHash, hashes))
        throw new CheckFailed(
          `fork: the log of ${current.size} entries does not extend the one of ${kept.size} you kept`,
        );
    }
  }
  await writeState(opts.state, { verifierKey: pinned, checkpoint: note });
  ctx.out(
    JSON.stringify({
      ok: true,
      treeSize: current.size,
      previous: state ? Number(state.checkpoint.split('\n')[1]) : null,
    }),
  );
}

export function registerAuditWatch(audit: Command, ctx: CliContext): void {
  audit
    .command('watch')
    .description(
      'fetch the newest checkpoint from a vault, check its signature and that the log only grew since the one kept in --state, then keep it; exits 1 on a rollback or a fork',
    )
    .requiredOption('--state <file>', 'where the last verified checkpoint is kept (created on first run)')
    .requiredOption('--server <url>', 'the vault, e.g. https://vault.example.com')
    .option('--key <vkey>', "the log's public key (C2SP verifier key or base64url); default: the one in --state")
    .addOption(new Option('--token <token>', 'an auditor token, for the consistency proof').env('VAULT_AUDIT_TOKEN'))
    .action((opts: WatchOptions) => watchOnce(ctx, opts));
}
