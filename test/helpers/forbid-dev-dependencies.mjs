// Loaded with `node --import` in front of the compiled server (test/integration/build.test.ts):
// any attempt to load a package production does not install fails the start, as it would in the image.
import { registerHooks } from 'node:module';

const DEV_ONLY = /^(tsx|esbuild|typescript|vitest)(\/|$)/;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (DEV_ONLY.test(specifier)) throw new Error(`the compiled server loaded the dev dependency ${specifier}`);
    return nextResolve(specifier, context);
  },
});
