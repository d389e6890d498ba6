import type { DomainDeps } from './domain/deps.js';

/** What the vault needs to serve: without its epoch keys it can neither register orders nor play recordings. */
export const READINESS_CHECKS = ['database', 'storage', 'epochKeys'] as const;
export type ReadinessCheck = (typeof READINESS_CHECKS)[number];
export type Readiness = Record<ReadinessCheck, 'ok' | 'unavailable'>;

/** Pings every store at once; a store that fails is `unavailable` (the caller answers 503, or sets a gauge). */
export async function checkReadiness(deps: Pick<DomainDeps, 'db' | 'blobs' | 'epochKeys'>): Promise<Readiness> {
  const check = (ping: () => Promise<void>) =>
    ping().then(
      () => 'ok' as const,
      () => 'unavailable' as const,
    );
  const [database, storage, epochKeys] = await Promise.all([
    check(() => deps.db.ping()),
    check(() => deps.blobs.ping()),
    check(() => deps.epochKeys.store.ping()),
  ]);
  return { database, storage, epochKeys };
}

export const isReady = (readiness: Readiness): boolean => READINESS_CHECKS.every((c) => readiness[c] === 'ok');
