import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the console's sources live: console/ at the repository root (two levels up from src/http and dist/http). */
export const CONSOLE_DIR = path.join(here, '..', '..', 'console');

/**
 * Where `npm run build` writes the bundled console, next to the compiled
 * server: dist/console/. Under src/ (tsx, tests) it does not exist.
 */
export const BUILT_CONSOLE_DIR = path.join(here, '..', 'console');

/** The files the console is served as, and their names in BUILT_CONSOLE_DIR. */
export const CONSOLE_FILES = {
  html: 'index.html',
  css: 'styles.css',
  js: 'app.js',
  /** the service worker that streams audio (console/worker/sw.ts) */
  sw: 'sw.js',
  favicon: 'favicon.svg',
} as const;

export type ConsoleAssets = Record<keyof typeof CONSOLE_FILES, string>;

/**
 * Bundles console/app.ts with esbuild, in memory. The build calls it once and
 * writes the result to dist/console/; from the sources (`npm start`, the
 * tests) it runs the first time an app is built, so nothing generated is
 * committed. esbuild is loaded only here: a compiled server never needs it,
 * and production installs it not.
 */
export function bundleConsole(): ConsoleAssets {
  const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof esbuild;
  const bundle = (entry: string, format: 'esm' | 'iife'): string => {
    const result = buildSync({
      entryPoints: [path.join(CONSOLE_DIR, entry)],
      bundle: true,
      format,
      platform: 'browser',
      target: 'es2022',
      charset: 'utf8',
      legalComments: 'none',
      write: false,
      logLevel: 'silent',
    });
    const js = result.outputFiles[0]?.text;
    if (js === undefined) throw new Error(`esbuild produced no bundle of console/${entry}`);
    return js;
  };
  const source = (name: string) => readFileSync(path.join(CONSOLE_DIR, name), 'utf8');
  return {
    html: source(CONSOLE_FILES.html),
    css: source(CONSOLE_FILES.css),
    js: bundle('app.ts', 'esm'),
    // A service worker is a classic script unless registered as a module: an IIFE runs either way.
    sw: bundle('worker/sw.ts', 'iife'),
    favicon: source(CONSOLE_FILES.favicon),
  };
}

let loaded: ConsoleAssets | undefined;

/**
 * The web console, once per process: the files `npm run build` wrote beside
 * the compiled server, or else bundled from the sources. A console that does
 * not compile stops the vault from starting, with esbuild's message.
 */
export function consoleAssets(): ConsoleAssets {
  if (loaded) return loaded;
  const read = (name: string) => readFileSync(path.join(BUILT_CONSOLE_DIR, name), 'utf8');
  loaded = existsSync(path.join(BUILT_CONSOLE_DIR, CONSOLE_FILES.js))
    ? {
        html: read(CONSOLE_FILES.html),
        css: read(CONSOLE_FILES.css),
        js: read(CONSOLE_FILES.js),
        sw: read(CONSOLE_FILES.sw),
        favicon: read(CONSOLE_FILES.favicon),
      }
    : bundleConsole();
  return loaded;
}
