import { spawn } from 'node:child_process';

/**
 * Runs a benchmark client as a Node process of its own (`node <args>`), feeds it
 * `input` on stdin and returns what it printed on stdout, parsed as JSON. Clients
 * run apart so that their work neither shares the vault's event loop nor counts
 * in its CPU or memory. A non-zero exit is an error carrying what it printed.
 */
export async function runClient<R>(args: string[], input = ''): Promise<R> {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    out += text;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(input);
  const code = await exited;
  if (code !== 0) throw new Error(`the benchmark client exited with ${code}: ${out.slice(0, 500)}`);
  return JSON.parse(out) as R;
}
