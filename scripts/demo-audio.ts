import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** ~30 s of audio: a tone from ffmpeg when it is installed, else a WAV made here. */
export async function makeAudio(
  seconds: number,
  // FFMPEG_PATH names the binary, as it does for the vault itself.
  ffmpeg: string = process.env.FFMPEG_PATH || 'ffmpeg',
): Promise<{ bytes: Uint8Array; how: string }> {
  try {
    const { stdout } = await run(
      ffmpeg,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=523:duration=${seconds}`,
        '-ac',
        '1',
        '-ar',
        '16000',
        '-f',
        'wav',
        'pipe:1',
      ],
      {
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { bytes: new Uint8Array(stdout), how: 'ffmpeg sine tone' };
  } catch (err) {
    const why =
      err instanceof Error && 'code' in err && err.code === 'ENOENT'
        ? 'ffmpeg not found'
        : `ffmpeg failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    const rate = 16_000;
    const samples = seconds * rate;
    const wav = Buffer.alloc(44 + samples * 2);
    wav.write('RIFF', 0);
    wav.writeUInt32LE(36 + samples * 2, 4);
    wav.write('WAVEfmt ', 8);
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20);
    wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(rate, 24);
    wav.writeUInt32LE(rate * 2, 28);
    wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36);
    wav.writeUInt32LE(samples * 2, 40);
    for (let i = 0; i < samples; i++)
      wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 523 * i) / rate)), 44 + i * 2);
    return { bytes: new Uint8Array(wav), how: `generated WAV (${why})` };
  }
}
