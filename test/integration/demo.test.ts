import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeAudio } from '../../scripts/demo-audio.js';

const run = promisify(execFile);
// `npm run demo`'s command without npm and tsx's CLI wrapper (each costs seconds of CPU on a busy machine).
const demo = (options: { timeout: number; env?: NodeJS.ProcessEnv }) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { maxBuffer: 4 * 1024 * 1024, ...options });

/** `npm run demo` walks one whole visit against a freshly started vault and exits 0. */
describe('npm run demo', () => {
  it('completes every step', async () => {
    const { stdout } = await demo({ timeout: 180_000 });
    expect(stdout).toContain('(ffmpeg sine tone)');
    expect(stdout).toContain('resumed: sent the');
    expect(stdout).toContain('receipt verified with the log key');
    expect(stdout).toContain('moved a day later: rejected (signature)');
    expect(stdout).toContain('identical to what the phone recorded: true');
    expect(stdout).toContain('log verified: ok=true');
    expect(stdout.trim().endsWith('demo complete')).toBe(true);
  }, 240_000);

  it('makes its audio in code when ffmpeg is not installed: the same WAV shape as the tone', async () => {
    // The audio is the demo's only use of ffmpeg, so the rest of the walk is the run above.
    const tone = await makeAudio(2);
    const made = await makeAudio(2, '/nonexistent/ffmpeg');
    expect(tone.how).toBe('ffmpeg sine tone');
    expect(made.how).toBe('generated WAV (ffmpeg not found)');
    const header = (wav: Uint8Array) => {
      const b = Buffer.from(wav);
      return {
        riff: b.toString('ascii', 0, 4),
        rate: b.readUInt32LE(24),
        channels: b.readUInt16LE(22),
        bits: b.readUInt16LE(34),
      };
    };
    expect(header(made.bytes)).toEqual({ riff: 'RIFF', rate: 16_000, channels: 1, bits: 16 });
    expect(header(made.bytes)).toEqual(header(tone.bytes));
    expect(made.bytes.length).toBe(44 + 2 * 16_000 * 2);
  });

  it('exits non-zero and names the step when one fails (here: the vault cannot start on a bad setting)', async () => {
    const failed = await demo({ timeout: 60_000, env: { ...process.env, VAULT_RETENTION: 'forever' } }).then(
      () => null,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/demo FAILED at step 1: the vault did not become ready/);
  }, 60_000);
});
