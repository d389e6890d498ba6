import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import type { S3Config } from '../../src/config.js';
import { freePort } from './ports.js';

export interface S3ServerOptions {
  /**
   * 'own': s3rver runs as a process of its own, as a real store would, so that
   * its work does not share the event loop of the code under measurement
   * (benchmarks). Tests keep it in process: it starts faster.
   */
  process?: 'same' | 'own';
}

/** A real S3 protocol server (s3rver) on a free loopback port, with one fresh bucket. */
export async function startS3Server(
  options: S3ServerOptions = {},
): Promise<{ config: S3Config; stop(): Promise<void> }> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 's3rver-'));
  const bucket = `vault-${Math.random().toString(36).slice(2, 10)}`;
  const running =
    options.process === 'own' ? await runOwnProcess(directory, bucket) : await runInProcess(directory, bucket);
  return {
    config: {
      endpoint: `http://127.0.0.1:${running.port}`,
      bucket,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    },
    async stop() {
      await running.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

interface Running {
  port: number;
  close(): Promise<void>;
}

async function runInProcess(directory: string, bucket: string): Promise<Running> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  return { port, close: () => server.close() };
}

async function runOwnProcess(directory: string, bucket: string): Promise<Running> {
  const port = await freePort();
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  const child = spawn(
    process.execPath,
    [bin, '-d', directory, '-a', '127.0.0.1', '-p', String(port), '-s', '--configure-bucket', bucket],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    port,
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`s3rver exited with ${child.exitCode} before it listened`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`s3rver did not listen on ${port} within 10 s`);
}
