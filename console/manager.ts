import type { VaultApi } from './api.js';
import type { AccessRequest } from './api-types.js';
import { byId, el, notice, showError } from './dom.js';
import { shortDigest } from './format.js';
import { decisionList, purposeText, requesterText, requestFacts, statusBadge } from './request-view.js';
import type { Signer } from './signer.js';

const PAGE = 10;
type Verdict = 'approve' | 'reject';

/**
 * The heads' queue: the pending requests this head may still sign (the vault
 * answers awaiting=me: not its own, not signed by it, a slot it can fill still
 * open), nearest deadline first, paged, the count in the tab. A decision is
 * confirmed in a dialog that repeats what is signed, then signed in this browser.
 */
export class ManagerView {
  private readonly errors = byId('manager-errors', HTMLDivElement);
  private readonly queue = byId('queue', HTMLDivElement);
  private readonly count = byId('queue-count', HTMLSpanElement);
  private readonly keyStatus = byId('signing-key-status', HTMLDivElement);
  private readonly newer = byId('queue-newer', HTMLButtonElement);
  private readonly older = byId('queue-older', HTMLButtonElement);
  private readonly dialog = byId('confirm-decision', HTMLDialogElement);
  private readonly dialogBody = byId('confirm-body', HTMLDivElement);
  private readonly confirmYes = byId('confirm-yes', HTMLButtonElement);
  private pages: (string | undefined)[] = [undefined];
  private nextAfter: string | null = null;
  private loads = 0;

  constructor(
    private readonly api: () => VaultApi,
    private readonly signer: () => Signer,
  ) {
    byId('refresh-queue', HTMLButtonElement).addEventListener('click', () => this.start());
    this.older.addEventListener('click', () => {
      if (this.nextAfter === null) return;
      this.pages.push(this.nextAfter);
      this.refresh();
    });
    this.newer.addEventListener('click', () => {
      if (this.pages.length > 1) this.pages.pop();
      this.refresh();
    });
    byId('confirm-no', HTMLButtonElement).addEventListener('click', () => this.dialog.close('no'));
  }

  start(): void {
    this.pages = [undefined];
    this.refresh();
    this.showKeyState().catch((err: unknown) => showError(this.keyStatus, err));
  }

  refresh(): void {
    this.load().catch((err: unknown) => showError(this.errors, err));
  }

  private async showKeyState(): Promise<void> {
    const state = await this.signer().state();
    if (state.kind === 'ready')
      notice(this.keyStatus, 'info', `You sign with key ${state.keyId}, kept in this browser.`);
    else if (state.kind === 'new')
      notice(
        this.keyStatus,
        'info',
        'Your first sign-off makes a signing key in this browser and registers it with the vault.',
      );
    else
      notice(
        this.keyStatus,
        'error',
        `This browser does not hold your registered signing key ${state.keyId}: ask an administrator to clear it, then sign here.`,
      );
  }

  /** The count in the tab, without loading the queue (on sign-in). */
  async countOnly(): Promise<void> {
    const page = await this.api().listRequests({ awaiting: 'me', limit: 1 });
    this.showCount(page.total);
  }

  private showCount(total: number): void {
    this.count.textContent = total > 0 ? `(${total})` : '';
    this.count.setAttribute('aria-label', `${total} waiting`);
  }

  private async load(): Promise<void> {
    const asked = ++this.loads;
    const page = await this.api().listRequests({
      awaiting: 'me',
      sort: 'deadline',
      after: this.pages.at(-1),
      limit: PAGE,
    });
    // A newer load (a refresh, a decision, a page turn) was asked for meanwhile: show that one.
    if (asked !== this.loads) return;
    this.showCount(page.total);
    this.nextAfter = page.nextAfter;
    this.older.hidden = page.nextAfter === null;
    this.newer.hidden = this.pages.length <= 1;
    this.queue.replaceChildren(
      page.requests.length === 0
        ? el('p', { class: 'muted', text: 'Nothing waits for your sign-off.' })
        : el('div', { class: 'cards' }, ...page.requests.map((r) => this.card(r))),
    );
  }

  private card(request: AccessRequest): HTMLElement {
    const titleId = `card-${request.id}`;
    const commentId = `comment-${request.id}`;
    const comment = el('textarea', { attrs: { id: commentId, rows: '2', maxlength: '2000', name: 'comment' } });
    const status = el('div');
    const button = (decision: Verdict, label: string) => {
      const b = el('button', { text: label, class: decision, attrs: { type: 'button', 'data-decision': decision } });
      b.addEventListener('click', () => {
        const said = comment.value.trim();
        if (!said) {
          notice(status, 'error', 'Say why in the comment: a sign-off must be defensible later.');
          comment.focus();
          return;
        }
        this.confirm(request, decision, said)
          .then((yes) => (yes ? this.decide(request, decision, said, status, b) : undefined))
          .catch((err: unknown) => showError(status, err));
      });
      return b;
    };
    return el(
      'article',
      { class: 'card', attrs: { 'data-request': request.id, 'aria-labelledby': titleId } },
      el('h3', { attrs: { id: titleId } }, `Order ${request.orderId} `, statusBadge(request)),
      requestFacts(request),
      decisionList(request),
      el('label', { text: 'Your comment', attrs: { for: commentId } }),
      comment,
      el('div', { class: 'actions' }, button('approve', 'Approve…'), button('reject', 'Reject…')),
      status,
    );
  }

  /** The dialog repeats what the head signs; resolves true only on "Sign". */
  private confirm(request: AccessRequest, decision: Verdict, comment: string): Promise<boolean> {
    const verb = decision === 'approve' ? 'approve' : 'reject';
    this.dialogBody.replaceChildren(
      el('p', {}, 'You ', el('strong', { text: verb }), ` the request of ${requesterText(request)}:`),
      el(
        'ul',
        {},
        el('li', { text: `order ${request.orderId}` }),
        el('li', { text: `purpose: ${purposeText(request.purpose)}` }),
        el('li', { text: `ticket ${request.ticketRef}` }),
        el('li', {}, 'your comment: ', el('q', { text: comment })),
        request.digest ? el('li', {}, 'request digest ', el('code', { text: shortDigest(request.digest) })) : null,
      ),
      el('p', { class: 'muted', text: 'Your browser signs this decision with your key; it cannot be taken back.' }),
    );
    this.confirmYes.textContent = decision === 'approve' ? 'Sign and approve' : 'Sign and reject';
    this.confirmYes.className = decision;
    return new Promise((resolve) => {
      this.dialog.addEventListener('close', () => resolve(this.dialog.returnValue === 'yes'), { once: true });
      this.dialog.returnValue = '';
      this.dialog.showModal();
      this.confirmYes.focus();
    });
  }

  private async decide(
    request: AccessRequest,
    decision: Verdict,
    comment: string,
    status: HTMLElement,
    button: HTMLButtonElement,
  ): Promise<void> {
    button.disabled = true;
    try {
      const signature = request.digest
        ? await this.signer().sign({ requestId: request.id, requestDigest: request.digest, decision, comment })
        : undefined;
      const after = await this.api().decide(request.id, { decision, comment, signature });
      notice(
        this.errors,
        'ok',
        `You ${decision === 'approve' ? 'approved' : 'rejected'} the request for order ${request.orderId}; it is now ${after.status}.`,
      );
      await this.load();
      await this.showKeyState();
    } catch (err) {
      showError(status, err);
    } finally {
      button.disabled = false;
    }
  }
}
