import type { VaultApi } from './api.js';
import type { AuditEntry } from './api-types.js';
import { byId, el, inputValue, notice, onSubmit, showError, table, when } from './dom.js';

const PAGE = 50;

/** The auditor's page: an order's audit trail, page by page, and a check of the whole chain. */
export class AuditorView {
  private readonly errors = byId('auditor-errors', HTMLDivElement);
  private readonly trail = byId('audit-trail', HTMLDivElement);
  private readonly more = byId('audit-more', HTMLButtonElement);
  private readonly verifyBox = byId('verify-result', HTMLDivElement);
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
  }

  private async show(orderId: string): Promise<void> {
    this.errors.replaceChildren();
    this.orderId = orderId;
    this.nextAfter = null;
    this.trail.replaceChildren(
      el('h3', { text: `Audit trail of order ${orderId}` }),
      table(['#', 'When', 'Who', 'Action', 'Outcome', 'Recording', 'Details'], []),
    );
    await this.page();
  }

  private async page(): Promise<void> {
    const { entries, nextAfter } = await this.api().audit({
      orderId: this.orderId,
      after: this.nextAfter ?? undefined,
      limit: PAGE,
    });
    const body = this.trail.querySelector('tbody');
    if (!body) throw new Error('the audit table is missing');
    body.append(...entries.map((e) => row(e)));
    if (body.childElementCount === 0)
      body.append(el('tr', {}, el('td', { text: 'No entries for this order.', attrs: { colspan: '7' } })));
    this.nextAfter = nextAfter;
    this.more.hidden = nextAfter === null;
  }

  private async verify(): Promise<void> {
    const result = await this.api().verifyAudit();
    if (result.ok)
      notice(
        this.verifyBox,
        'ok',
        `Log ok: ${result.checked} entries match the signed checkpoint of tree size ${result.treeSize}.`,
      );
    else
      notice(
        this.verifyBox,
        'error',
        `Log BROKEN${result.firstBrokenId ? ` at entry ${result.firstBrokenId}` : ''}: ${result.reason ?? '?'} (${result.checked} checked).`,
      );
  }
}

function row(e: AuditEntry): HTMLTableRowElement {
  const details = el('code', { text: JSON.stringify(e.details) });
  return el(
    'tr',
    { class: e.outcome, attrs: { 'data-action': e.action } },
    el('td', { text: e.id }),
    el('td', { text: when(e.at) }),
    el('td', { text: e.actorId ?? 'system' }),
    el('td', { text: e.action }),
    el('td', { text: e.outcome }),
    el('td', { text: e.recordingId ?? '—' }),
    el('td', {}, details),
  );
}
