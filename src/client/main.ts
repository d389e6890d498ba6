import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { fromBase64Url } from '../crypto/sodium.js';
import { PhoneClient, splitIntoChunks } from './phone-client.js';
import { ResumableRecording, type UploadOutcome } from './resumable.js';

/**
 * @module
 * The reference phone as a process of its own, for a mobile developer to read
 * and for the tests that kill it: `phone upload` records an audio file (encrypt
 * and spool every chunk, then upload), `phone resume` finishes what a killed
 * one left in its state file. Each prints one JSON line: the checked receipt
 * and `safeToDelete: true`, or `status: "truncated"`. The bearer token is read
 * from a file (not argv, which other users of the machine can see); the log's
 * public key is pinned on the command line.
 */
const positiveInt = (text: string): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

const logKey = (text: string): Uint8Array => {
  const key = fromBase64Url(text);
  if (key?.length !== 32) throw new InvalidArgumentError('must be a 32-byte Ed25519 public key, base64url');
  return key;
};

interface Common {
  baseUrl: string;
  tokenFile: string;
  logKey: Uint8Array;
  state: string;
  parallel: number;
  timeoutMs: number;
}

async function client(o: Common): Promise<PhoneClient> {
  const token = (await readFile(o.tokenFile, 'utf8')).trim();
  return new PhoneClient({ baseUrl: o.baseUrl, token, logPublicKey: o.logKey, retry: { timeoutMs: o.timeoutMs } });
}

const print = (outcome: UploadOutcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`);

function withCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--base-url <url>', 'the vault, e.g. https://vault.example.com')
    .requiredOption('--token-file <file>', "a file holding the beautician's bearer token")
    .requiredOption('--log-key <base64url>', "the audit log's Ed25519 public key, to check the receipt", logKey)
    .requiredOption('--state <file>', 'the state file (its spool is <file>.chunks)')
    .option('--parallel <n>', 'chunks in flight at once', positiveInt, 4)
    .option('--timeout-ms <ms>', 'per-request timeout', positiveInt, 30_000);
}

export function buildPhoneProgram(): Command {
  const program = new Command('phone').description('the reference phone client').showHelpAfterError();
  withCommon(program.command('upload'))
    .description('record an audio file as a new recording and upload it')
    .requiredOption('--order <orderId>', 'the order')
    .requiredOption('--public-key <base64url>', "the order's X25519 public key")
    .requiredOption('--audio <file>', 'the audio to record')
    .option('--mime <type>', 'its media type', 'audio/ogg; codecs=opus')
    .option('--chunk-bytes <n>', 'plaintext bytes per chunk', positiveInt, 64 * 1024)
    .action(
      async (o: Common & { order: string; publicKey: string; audio: string; mime: string; chunkBytes: number }) => {
        const recording = await ResumableRecording.begin(await client(o), {
          stateFile: o.state,
          orderId: o.order,
          orderPublicKey: o.publicKey,
          mimeType: o.mime,
        });
        const parts = splitIntoChunks(new Uint8Array(await readFile(o.audio)), o.chunkBytes);
        for (const [i, part] of parts.entries()) await recording.record(part, { final: i === parts.length - 1 });
        print(await recording.finish(o.parallel));
      },
    );
  withCommon(program.command('resume'))
    .description('finish the recording a killed upload left in the state file')
    .action(async (o: Common) => {
      print(await (await ResumableRecording.resume(await client(o), o.state)).finish(o.parallel));
    });
  return program;
}

const isMain =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');

if (isMain) {
  buildPhoneProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`phone: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
