import type { VaultApi } from './api.js';
import type { AccessRequest } from './api-types.js';
import { byId, el, notice, showError } from './dom.js';
import { decisionList, requestFacts, statusBadge } from './request-view.js';

/**
 * The managers' queue: the pending requests this token may read (the vault
 * scopes the list: a department head sees their department's, the head of
 * security all), each with what it still awaits and approve / reject.
 */
export class ManagerView {
  private readonly errors = byId('manager-errors', HTMLDivElement);
  private readonly queue = byId('queue', HTMLDivElement);
  /** Requests signed from this page, so they are not offered again while they wait for the other sign-off. */
  private readonly decided = new Set<string>();

  constructor(private readonly api: () => VaultApi) {
    byId('refresh-queue', HTMLButtonElement).addEventListener('click', () => this.refresh());
  }

  refresh(): void {
    this.load().catch((err: unknown) => showError(this.errors, err));
  }

  private async load(): Promise<void> {
    const { requests } = await this.api().listRequests({ status: 'pending', limit: 200 });
    const open = requests.filter((r) => !this.decided.has(r.id));
    this.queue.replaceChildren(
      open.length === 0
        ? el('p', { class: 'muted', text: 'Nothing waits for a sign-off.' })
        : el('div', { class: 'cards' }, ...open.map((r) => this.card(r))),
    );
  }

  private card(request: AccessRequest): HTMLElement {
    const comment = el('textarea', {
      attrs: { rows: '2', maxlength: '2000', 'aria-label': `Comment on ${request.id}`, name: 'comment' },
    });
    const status = el('div');
    const button = (decision: 'approve' | 'reject', label: string) => {
      const b = el('button', { text: label, class: decision, attrs: { type: 'button', 'data-decision': decision } });
      b.addEventListener('click', () => {
        if (!comment.value.trim()) {
          notice(status, 'error', 'Say why in the comment: a sign-off must be defensible later.');
          return;
        }
        b.disabled = true;
        this.api()
          .decide(request.id, { decision, comment: comment.value.trim() })
          .then((after) => {
            this.decided.add(request.id);
            notice(
              this.errors,
              'ok',
              `You ${decision === 'approve' ? 'approved' : 'rejected'} ${request.id}; it is now ${after.status}.`,
            );
            return this.load();
          })
          .catch((err: unknown) => showError(status, err))
          .finally(() => {
            b.disabled = false;
          });
      });
      return b;
    };
    return el(
      'article',
      { class: 'card', attrs: { 'data-request': request.id } },
      el('h3', {}, `Order ${request.orderId} `, statusBadge(request)),
      requestFacts(request),
      decisionList(request),
      el('label', { text: 'Comment' }),
      comment,
      el('div', { class: 'actions' }, button('approve', 'Approve'), button('reject', 'Reject')),
      status,
    );
  }
}
