import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const made = new Map<string, Promise<Uint8Array>>();

/**
 * A 440 Hz tone made by ffmpeg: real audio to transcode or play. WAV is 16 kHz mono; MP3 is 48 kHz stereo, small
 * to upload but large once decoded. Made once per test file and shape (encoding two minutes of MP3 costs seconds of
 * CPU, and suites run per store pair); each caller gets its own copy of the bytes.
 */
export async function tone(seconds: number, container: 'wav' | 'mp3' = 'wav'): Promise<Uint8Array> {
  const key = `${seconds}:${container}`;
  let bytes = made.get(key);
  if (!bytes) {
    bytes = encodeTone(seconds, container);
    made.set(key, bytes);
    bytes.catch(() => made.delete(key));
  }
  return new Uint8Array(await bytes);
}

async function encodeTone(seconds: number, container: 'wav' | 'mp3'): Promise<Uint8Array> {
  const shape =
    container === 'wav'
      ? ['-ac', '1', '-ar', '16000', '-f', 'wav']
      : ['-ac', '2', '-ar', '48000', '-c:a', 'libmp3lame', '-b:a', '96k', '-f', 'mp3'];
  const { stdout } = await run(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:duration=${seconds}`,
      ...shape,
      'pipe:1',
    ],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return new Uint8Array(stdout);
}
