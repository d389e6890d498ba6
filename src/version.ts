import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The vault's version, from package.json at the repository root (one level up
 * from src/ and from dist/ alike; the Docker image copies it). Reported as
 * `vault_build_info` so a dashboard tells which version each server runs.
 */
export const VAULT_VERSION: string = (() => {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`${file} names no version`);
  return version;
})();
