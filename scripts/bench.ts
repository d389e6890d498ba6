/**
 * `npm run bench`: runs every scripts/bench/*.ts module (each exports
 * `run(): Promise<BenchSection>`), prints a table and writes bench/results.json.
 * Each figure is measured next to its ceiling in the same run, so ratios hold
 * on a noisy machine. `npm run bench -- playback` runs only matching sections;
 * `--short` runs a quick check (not figures to report); `--pairs=fs` and
 * `--parts=phones` narrow a section (see BenchOptions in bench/types.ts).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchOptions, BenchRun, BenchSection } from './bench/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const flag = (name: string): string[] =>
  args
    .filter((a) => a.startsWith(`--${name}=`))
    .flatMap((a) => a.slice(name.length + 3).split(','))
    .filter(Boolean);
const loadAtStart = os.loadavg();
const options: BenchOptions = { short: args.includes('--short'), pairs: flag('pairs'), parts: flag('parts') };

const files = (await readdir(path.join(here, 'bench')))
  .filter((f) => f.endsWith('.ts') && f !== 'types.ts' && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const sections: Record<string, BenchSection> = {};
let failed = false;
for (const file of files) {
  const name = file.replace(/\.ts$/, '');
  process.stdout.write(`\n== ${name}\n`);
  try {
    const mod = (await import(pathToFileURL(path.join(here, 'bench', file)).href)) as { run: BenchRun };
    const section = await mod.run(options);
    sections[name] = section;
    for (const [metric, m] of Object.entries(section.metrics)) {
      const goal = m.goal ? `  goal ${m.goal} ${m.met === undefined ? '' : m.met ? '(met)' : '(MISSED)'}` : '';
      process.stdout.write(`  ${metric.padEnd(60)} ${String(m.value).padStart(12)} ${m.unit}${goal}\n`);
    }
  } catch (err) {
    failed = true;
    process.stdout.write(`  failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
}

// A partial run (`npm run bench -- retention`) keeps the other sections of the last report; a short one writes apart.
const outFile = path.join(here, '..', 'bench', options.short ? 'results.short.json' : 'results.json');
type Report = { sections?: Record<string, BenchSection> };
const previous: Record<string, BenchSection> =
  only.length > 0 || options.pairs.length > 0 || options.parts.length > 0
    ? ((
        await readFile(outFile, 'utf8').then(
          (t): Report => JSON.parse(t) as Report,
          (): Report => ({}),
        )
      ).sections ?? {})
    : {};
const report = {
  at: new Date().toISOString(),
  command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
  machine: {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    // 1, 5 and 15 minute load averages: a busy machine makes every figure noisier.
    loadAverageAtStart: loadAtStart.map((l) => Math.round(l * 100) / 100),
    loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  },
  sections: { ...previous, ...sections },
};
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`\nwrote ${path.relative(process.cwd(), outFile)}\n`);
process.exit(failed ? 1 : 0);
