import * as principals from '../store/db/principals.js';
import type { AccessRequestPage, AccessRequestView, DecisionView } from './access-requests.js';
import type { DomainDeps } from './deps.js';

/**
 * People's display names beside their ids, on the reads a person looks at (the
 * console): the id stays the reference, the name is for reading. An id with no
 * principal behind it (a `system:` actor) gets no name.
 */
export type NamedDecisionView = DecisionView & { deciderName?: string };
export type NamedAccessRequestView = Omit<AccessRequestView, 'decisions'> & {
  requesterName?: string;
  decisions: NamedDecisionView[];
};

function name<K extends string>(names: Map<string, string>, key: K, id: string): { [P in K]?: string } {
  const found = names.get(id);
  return (found === undefined ? {} : { [key]: found }) as { [P in K]?: string };
}

function named(view: AccessRequestView, names: Map<string, string>): NamedAccessRequestView {
  return {
    ...view,
    ...name(names, 'requesterName', view.requesterId),
    decisions: view.decisions.map((d) => ({ ...d, ...name(names, 'deciderName', d.deciderId) })),
  };
}

const peopleIn = (views: readonly AccessRequestView[]): string[] =>
  views.flatMap((v) => [v.requesterId, ...v.decisions.map((d) => d.deciderId)]);

export async function nameRequest(
  deps: Pick<DomainDeps, 'db'>,
  view: AccessRequestView,
): Promise<NamedAccessRequestView> {
  return named(view, await principals.principalNames(deps.db, peopleIn([view])));
}

export async function nameRequestPage(
  deps: Pick<DomainDeps, 'db'>,
  page: AccessRequestPage,
): Promise<Omit<AccessRequestPage, 'requests'> & { requests: NamedAccessRequestView[] }> {
  const names = await principals.principalNames(deps.db, peopleIn(page.requests));
  return { ...page, requests: page.requests.map((v) => named(v, names)) };
}

/** The names of the actors of a page of audit entries, as a map beside the entries (entries are hashed as they are). */
export async function actorNames(
  deps: Pick<DomainDeps, 'db'>,
  actorIds: readonly (string | null)[],
): Promise<Record<string, string>> {
  const ids = actorIds.filter((id): id is string => id !== null);
  return Object.fromEntries(await principals.principalNames(deps.db, ids));
}
