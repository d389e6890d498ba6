import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** `npm run demo` walks one whole visit against a freshly started vault and exits 0. */
describe('npm run demo', () => {
  it('completes every step', async () => {
    const { stdout } = await run('npx', ['tsx', 'scripts/demo.ts'], { timeout: 90_000, maxBuffer: 4 * 1024 * 1024 });
    expect(stdout).toContain('resumed: sent the');
    expect(stdout).toContain('identical to what the phone recorded: true');
    expect(stdout).toContain('chain verified: ok=true');
    expect(stdout.trim().endsWith('demo complete')).toBe(true);
  }, 120_000);
});
