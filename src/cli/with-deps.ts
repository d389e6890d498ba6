import type { CliContext } from './context.js';

type Deps = Awaited<ReturnType<CliContext['openDeps']>>;

/** Opens the stores for one command and always closes them. */
export async function withDeps<T>(ctx: CliContext, fn: (deps: Deps) => Promise<T>): Promise<T> {
  const deps = await ctx.openDeps();
  try {
    return await fn(deps);
  } finally {
    await deps.close();
  }
}
