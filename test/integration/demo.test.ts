import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** `npm run demo` walks one whole visit against a freshly started vault and exits 0. */
describe('npm run demo', () => {
  it('completes every step', async () => {
    const { stdout } = await run('npx', ['tsx', 'scripts/demo.ts'], { timeout: 180_000, maxBuffer: 4 * 1024 * 1024 });
    expect(stdout).toContain('(ffmpeg sine tone)');
    expect(stdout).toContain('resumed: sent the');
    expect(stdout).toContain('receipt verified with the log key');
    expect(stdout).toContain('moved a day later: rejected (signature)');
    expect(stdout).toContain('identical to what the phone recorded: true');
    expect(stdout).toContain('chain verified: ok=true');
    expect(stdout.trim().endsWith('demo complete')).toBe(true);
  }, 240_000);

  it('makes its audio in code when ffmpeg is not installed', async () => {
    const { stdout } = await run('npx', ['tsx', 'scripts/demo.ts'], {
      timeout: 180_000,
      maxBuffer: 4 * 1024 * 1024,
      env: { ...process.env, FFMPEG_PATH: '/nonexistent/ffmpeg' },
    });
    expect(stdout).toContain('generated WAV (ffmpeg not found)');
    expect(stdout).toContain('identical to what the phone recorded: true');
    expect(stdout.trim().endsWith('demo complete')).toBe(true);
  }, 240_000);

  it('exits non-zero and names the step when one fails (here: the vault cannot start on a bad setting)', async () => {
    const failed = await run('npx', ['tsx', 'scripts/demo.ts'], {
      timeout: 60_000,
      env: { ...process.env, VAULT_RETENTION: 'forever' },
    }).then(
      () => null,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/demo FAILED at step 1: the vault did not become ready/);
  }, 60_000);
});
