import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** Where the console's sources live: console/ at the repository root. */
export const CONSOLE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

export interface ConsoleAssets {
  html: string;
  css: string;
  js: string;
}

let built: ConsoleAssets | undefined;

/**
 * The web console, bundled in memory from console/*.ts with esbuild the first
 * time an app is built (once per process): `npm start` needs no build step and
 * nothing generated is committed. A console that does not compile stops the
 * vault from starting, with esbuild's message.
 */
export function consoleAssets(): ConsoleAssets {
  if (built) return built;
  const result = buildSync({
    entryPoints: [path.join(CONSOLE_DIR, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    charset: 'utf8',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]?.text;
  if (js === undefined) throw new Error('esbuild produced no console bundle');
  built = {
    html: readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8'),
    css: readFileSync(path.join(CONSOLE_DIR, 'styles.css'), 'utf8'),
    js,
  };
  return built;
}
