import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, pipeline, type Readable, type Writable } from 'node:stream';
import type { Config } from '../config.js';
import { VaultError } from '../errors.js';

/**
 * Streaming transcode with ffmpeg: decrypted audio goes in on stdin and the
 * transcoded audio comes out on stdout. No temporary file ever holds
 * plaintext. The binary is FFMPEG_PATH, else the optional ffmpeg-static
 * package's binary (when installed and present), else `ffmpeg` on PATH.
 */
export type TranscodeFormat = 'mp3' | 'wav' | 'ogg';

const OUTPUT: Record<TranscodeFormat, { contentType: string; args: string[] }> = {
  mp3: { contentType: 'audio/mpeg', args: ['-c:a', 'libmp3lame', '-b:a', '128k', '-f', 'mp3'] },
  wav: { contentType: 'audio/wav', args: ['-c:a', 'pcm_s16le', '-f', 'wav'] },
  ogg: { contentType: 'audio/ogg', args: ['-c:a', 'libvorbis', '-q:a', '4', '-f', 'ogg'] },
};

export const contentTypeOf = (format: TranscodeFormat): string => OUTPUT[format].contentType;

const isExecutable = async (file: string): Promise<boolean> =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

async function ffmpegStaticPath(): Promise<string | null> {
  // Optional dependency: its install script downloads a binary, which may have failed or been skipped.
  const name = 'ffmpeg-static';
  let mod: unknown;
  try {
    mod = await import(name);
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
  const candidate = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : null;
  return typeof candidate === 'string' && (await isExecutable(candidate)) ? candidate : null;
}

async function onPath(env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter((d) => d.length > 0)) {
    const candidate = path.join(dir, 'ffmpeg');
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

export function ffmpegMissing(detail: string): VaultError {
  return new VaultError(
    'unavailable',
    'ffmpeg_unavailable',
    `transcoding needs ffmpeg, which is not available on this server (${detail}); ` +
      'install ffmpeg or set FFMPEG_PATH, or ask for format=original, which needs no ffmpeg',
    { retryAfter: 3600 },
  );
}

/** The ffmpeg binary to run; a 503 VaultError naming what was tried when there is none. */
export async function resolveFfmpeg(
  config: Pick<Config, 'ffmpegPath'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (config.ffmpegPath !== undefined) {
    if (await isExecutable(config.ffmpegPath)) return config.ffmpegPath;
    throw ffmpegMissing('FFMPEG_PATH does not name an executable file');
  }
  const found = (await ffmpegStaticPath()) ?? (await onPath(env));
  if (found) return found;
  throw ffmpegMissing('FFMPEG_PATH is unset, ffmpeg-static is not installed and there is no ffmpeg on PATH');
}

export interface Transcode {
  contentType: string;
  /** the transcoded audio; errors (ffmpeg failing, input failing) destroy it */
  output: Readable;
  /** resolves once ffmpeg produced its first bytes (or finished cleanly without any); rejects when it failed first */
  started: Promise<void>;
  /** ends ffmpeg at once (the client went away); idempotent */
  kill(): void;
  /** the process id, for operators and tests */
  pid: number | undefined;
}

const STDERR_KEEP = 2048;

/**
 * Starts ffmpeg reading `input` from stdin and writing `format` to stdout.
 * Whatever ends first, the input, ffmpeg or the consumer, ends the others.
 */
export function startTranscode(ffmpegPath: string, input: Readable, format: TranscodeFormat): Transcode {
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(
    ffmpegPath,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      'pipe:0',
      '-vn',
      '-map_metadata',
      '-1',
      ...OUTPUT[format].args,
      'pipe:1',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const output = new PassThrough();
  let stderr = '';
  let exited = false;
  let gotOutput = false;

  const kill = (): void => {
    if (!exited && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP);
  });

  const started = new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      kill();
      if (gotOutput) output.destroy(err);
      else {
        output.destroy();
        reject(err);
      }
    };

    child.on('error', (err: NodeJS.ErrnoException) => {
      failed(err.code === 'ENOENT' || err.code === 'EACCES' ? ffmpegMissing(`could not start ${ffmpegPath}`) : err);
    });
    child.stdout.once('data', () => {
      gotOutput = true;
      resolve();
    });
    // stdout → output; ffmpeg's own failure is reported by its exit status below.
    child.stdout.pipe(output, { end: false });
    child.on('close', (code, signal) => {
      exited = true;
      if (code === 0) {
        output.end();
        resolve();
        return;
      }
      failed(
        new VaultError(
          'integrity',
          'transcode_failed',
          `ffmpeg could not transcode this recording to ${format} (${signal ?? `exit ${code}`})`,
          {},
          {
            cause: new Error(stderr.trim()),
          },
        ),
      );
    });

    // Decrypted input → ffmpeg. An input that fails (an integrity failure mid-stream) must not
    // let ffmpeg finish a file that looks whole: kill it and fail the output.
    pipeline(input, child.stdin, (err) => {
      if (err && !exited) failed(err);
    });
  });
  // The consumer going away ends ffmpeg (and, through the pipeline above, the decryption).
  output.on('close', () => {
    if (!output.writableFinished) kill();
  });

  return { contentType: OUTPUT[format].contentType, output, started, kill, pid: child.pid };
}
