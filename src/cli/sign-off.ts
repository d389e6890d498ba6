import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { generateSigningKey, signDecision, signingKeyFromSeed } from '../crypto/decision-signature.js';
import { getSodium } from '../crypto/sodium.js';
import type { RegisterCommands } from './context.js';

/**
 * @module
 * A head's side of signed sign-offs from a shell (SPEC "Signed sign-offs"):
 * `vault keys signing-keygen` makes the key file, `vault sign-off` signs one
 * decision with it and sends it to a running vault. The secret seed stays in
 * the key file; only the public key and signatures leave this process. The
 * token comes from VAULT_TOKEN, never from the command line (where `ps` and
 * shell history would show it).
 */

interface SignOffOptions {
  approve?: boolean;
  reject?: boolean;
  comment: string;
  key: string;
  server?: string;
}

export const registerSignOffCommands: RegisterCommands = (program, ctx) => {
  const keys = program.commands.find((c) => c.name() === 'keys') ?? program.command('keys');
  keys
    .command('signing-keygen')
    .description(
      "make a head's Ed25519 signing key: the secret seed goes to --out (mode 0600), the public key is printed",
    )
    .requiredOption('--out <file>', 'where to write the secret seed (must not exist)')
    .action(async (opts: { out: string }) => {
      const key = await generateSigningKey();
      await writeFile(opts.out, `${key.seed}\n`, { mode: 0o600, flag: 'wx' });
      await chmod(opts.out, 0o600);
      ctx.out(`public key: ${key.publicKey}`);
      ctx.out(`key id: ${key.keyId}`);
    });

  program
    .command('sign-off <requestId>')
    .description('sign and send a decision on an access request (token from VAULT_TOKEN)')
    .option('--approve', 'approve the request')
    .option('--reject', 'reject the request')
    .requiredOption('--comment <text>', 'why; it is signed and kept with the decision')
    .requiredOption('--key <file>', 'the key file from `vault keys signing-keygen`')
    .option('--server <url>', 'the vault (default: VAULT_URL)')
    .action(async (requestId: string, opts: SignOffOptions) => {
      if (Boolean(opts.approve) === Boolean(opts.reject))
        throw new InvalidArgumentError('give exactly one of --approve and --reject');
      const server = opts.server ?? ctx.env?.VAULT_URL;
      if (!server) throw new InvalidArgumentError('give --server or set VAULT_URL');
      const token = ctx.env?.VAULT_TOKEN;
      if (!token) throw new InvalidArgumentError('set VAULT_TOKEN to your bearer token');
      const result = await signOff({
        server,
        token,
        requestId,
        decision: opts.approve ? 'approve' : 'reject',
        comment: opts.comment,
        keyFile: opts.key,
        say: ctx.out,
      });
      ctx.out(`request ${requestId} is ${result.status}`);
    });
};

export interface SignOffInput {
  server: string;
  token: string;
  requestId: string;
  decision: 'approve' | 'reject';
  comment: string;
  keyFile: string;
  say(line: string): void;
}

/** Reads the key file, registers its public key on first use, signs the request's digest and sends the decision. */
export async function signOff(input: SignOffInput): Promise<{ status: string }> {
  const seed = await readSeed(input.keyFile);
  const key = await signingKeyFromSeed(seed);
  (await getSodium()).memzero(key.secretKey);
  const api = client(input.server, input.token);

  const me = (await api('GET', '/v1/me')) as { id: string; signingKeyId?: string };
  if (me.signingKeyId === undefined) {
    await api('PUT', '/v1/me/signing-key', { publicKey: key.publicKey });
    input.say(`registered signing key ${key.keyId} for ${me.id}`);
  } else if (me.signingKeyId !== key.keyId) {
    throw new Error(
      `${me.id} has signing key ${me.signingKeyId} registered, but ${input.keyFile} holds ${key.keyId}; ask an admin to clear the old one`,
    );
  }
  const path = `/v1/access-requests/${encodeURIComponent(input.requestId)}`;
  const request = (await api('GET', path)) as { id: string; digest: string };
  // The vault trims the comment before it verifies; sign exactly what it will check.
  const comment = input.comment.trim();
  const signature = await signDecision(
    { requestId: request.id, requestDigest: request.digest, decision: input.decision, comment, signerId: me.id },
    seed,
  );
  const decided = (await api('POST', `${path}/decisions`, { decision: input.decision, comment, signature })) as {
    status: string;
  };
  return { status: decided.status };
}

async function readSeed(file: string): Promise<string> {
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) throw new Error(`${file} is readable by others; chmod 600 it`);
  return (await readFile(file, 'utf8')).trim();
}

function client(server: string, token: string) {
  const base = server.replace(/\/+$/, '');
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      throw new Error(`${method} ${path}: ${res.status} ${error?.code ?? ''} ${error?.message ?? ''}`.trim());
    }
    return parsed;
  };
}
