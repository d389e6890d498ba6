import type { VaultApi } from './api.js';
import type { AuditEntry } from './api-types.js';
import { auditSentence } from './audit-sentences.js';
import { byId, el, inputValue, notice, onSubmit, showError, when } from './dom.js';

const PAGE = 50;

/**
 * The auditor's workspace: an order's trail as sentences (the raw entry one
 * click away), a check of the whole log, and the order's evidence bundle.
 */
export class AuditorView {
  private readonly errors = byId('auditor-errors', HTMLDivElement);
  private readonly trail = byId('audit-trail', HTMLDivElement);
  private readonly more = byId('audit-more', HTMLButtonElement);
  private readonly verifyBox = byId('verify-result', HTMLDivElement);
  private readonly evidence = byId('download-evidence', HTMLButtonElement);
  private orderId = '';
  private nextAfter: string | null = null;

  constructor(private readonly api: () => VaultApi) {
    onSubmit(byId('audit-order', HTMLFormElement), (form) => this.show(inputValue(form, 'orderId')), this.errors);
    this.more.addEventListener('click', () => {
      this.page().catch((err: unknown) => showError(this.errors, err));
    });
    const verify = byId('verify-chain', HTMLButtonElement);
    verify.addEventListener('click', () => {
      verify.disabled = true;
      this.verify()
        .catch((err: unknown) => showError(this.verifyBox, err))
        .finally(() => {
          verify.disabled = false;
        });
    });
    this.evidence.addEventListener('click', () => {
      this.evidence.disabled = true;
      this.downloadEvidence()
        .catch((err: unknown) => showError(this.errors, err))
        .finally(() => {
          this.evidence.disabled = false;
        });
    });
  }

  private async show(orderId: string): Promise<void> {
    this.errors.replaceChildren();
    this.orderId = orderId;
    this.nextAfter = null;
    this.trail.replaceChildren(
      el('h3', { text: `What happened to order ${orderId}` }),
      el('ol', { class: 'trail', attrs: { 'aria-label': `Audit entries of order ${orderId}` } }),
    );
    await this.page();
    this.evidence.hidden = false;
    this.evidence.textContent = `Download evidence bundle of ${orderId}`;
  }

  private async page(): Promise<void> {
    const { entries, nextAfter, names } = await this.api().audit({
      orderId: this.orderId,
      after: this.nextAfter ?? undefined,
      limit: PAGE,
    });
    const list = this.trail.querySelector('ol');
    if (!list) throw new Error('the audit list is missing');
    list.append(...entries.map((e) => item(e, names)));
    if (list.childElementCount === 0) list.append(el('li', { text: 'No entries for this order.' }));
    this.nextAfter = nextAfter;
    this.more.hidden = nextAfter === null;
  }

  private async verify(): Promise<void> {
    const r = await this.api().verifyAudit();
    if (r.ok)
      notice(
        this.verifyBox,
        'ok',
        `The log verifies: ${r.checked} entries match the signed checkpoint of tree size ${r.treeSize} (root ${r.rootHash.slice(0, 16)}…).`,
      );
    else
      notice(
        this.verifyBox,
        'error',
        `The log does NOT verify${r.firstBrokenId ? ` at entry ${r.firstBrokenId}` : ''}: ${r.reason ?? '?'} (${r.checked} checked).`,
      );
  }

  private async downloadEvidence(): Promise<void> {
    const blob = await this.api().evidence(this.orderId);
    const url = URL.createObjectURL(blob);
    try {
      const link = el('a', { attrs: { href: url, download: `evidence-${this.orderId}.json` } });
      document.body.append(link);
      link.click();
      link.remove();
    } finally {
      // The click has started the download by now; the URL is not needed any more.
      window.setTimeout(() => URL.revokeObjectURL(url), 0);
    }
    notice(this.errors, 'ok', `Evidence bundle of ${this.orderId} downloaded (${blob.size} bytes).`);
  }
}

function item(e: AuditEntry, names: Record<string, string>): HTMLLIElement {
  return el(
    'li',
    { class: e.outcome, attrs: { 'data-action': e.action } },
    el('span', { class: 'when' }, when(e.at)),
    ' ',
    el('span', { class: 'sentence', text: auditSentence(e, names) }),
    el(
      'details',
      {},
      el('summary', { text: 'Details' }),
      el('pre', { text: JSON.stringify({ ...e, details: e.details }, null, 2) }),
    ),
  );
}
