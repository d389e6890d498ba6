import { cpSync, globSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleConsole, CONSOLE_FILES } from '../src/http/console-bundle.js';

/**
 * `npm run build`: the server as production runs it, with `node dist/server.js`
 * and nothing but the production dependencies. It compiles src/ (only src/)
 * to dist/, one module per source file, copies the SQL migrations beside the
 * compiled migrator, and writes the console bundle to dist/console/, so
 * neither tsx nor esbuild is needed at run time.
 *
 * esbuild only strips the types (in a second); `npm run typecheck` checks
 * them, in `npm test`, CI and the Docker build.
 */
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: globSync('src/**/*.ts', { cwd: root }).map((file) => path.join(root, file)),
  outbase: path.join(root, 'src'),
  outdir: dist,
  bundle: false,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: true,
  logLevel: 'warning',
});

cpSync(path.join(root, 'src/store/db/migrations'), path.join(dist, 'store/db/migrations'), { recursive: true });

const consoleDir = path.join(dist, 'console');
mkdirSync(consoleDir, { recursive: true });
const assets = bundleConsole();
for (const [kind, name] of Object.entries(CONSOLE_FILES) as [keyof typeof CONSOLE_FILES, string][])
  writeFileSync(path.join(consoleDir, name), assets[kind]);

process.stdout.write(`built ${path.relative(process.cwd(), dist) || '.'}: node dist/server.js\n`);
