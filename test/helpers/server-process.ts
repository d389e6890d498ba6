import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from './ports.js';

/** The server as `npm start` runs it (src/server.ts in a process of its own), every output line kept. */
export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  /** every line the process wrote to stdout or stderr */
  lines: string[];
  exited: Promise<number | string>;
  /** SIGTERM and wait for the exit code (or signal) */
  stop(): Promise<number | string>;
}

/** How `npm start` runs the server: its TypeScript sources through tsx. */
export const SOURCE_SERVER = ['--import', 'tsx', 'src/server.ts'];

/**
 * Starts the server with the given environment on a free port and waits until
 * /readyz answers 200 (polling, no fixed sleep), or fails when it exits first.
 * `nodeArgs` are node's arguments: the sources by default, or a built entry.
 */
export async function startServerProcess(
  env: NodeJS.ProcessEnv,
  port?: number,
  nodeArgs: string[] = SOURCE_SERVER,
): Promise<ServerProcess> {
  const listenOn = port ?? (await freePort());
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...env, PORT: String(listenOn) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const baseUrl = `http://127.0.0.1:${listenOn}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the server exited before it was ready:\n${lines.join('\n')}`);
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not become ready:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    baseUrl,
    lines,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The environment of the embedded default: no DATABASE_URL. */
export function embeddedEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.DATABASE_URL;
  return env;
}
