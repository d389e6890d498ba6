import type { VaultApi } from './api.js';
import { type AccessRequest, PURPOSES, type Purpose, REQUEST_STATUSES, type RecordingMetadata } from './api-types.js';
import { shortId } from './audit-sentences.js';
import { byId, el, inputValue, onSubmit, showError, table, when } from './dom.js';
import { audioBytes, formatSize, formatSpan } from './format.js';
import { Player } from './player.js';
import { decisionList, purposeText, requestFacts, statusBadge } from './request-view.js';
import { retentionText } from './retention.js';

const POLL_MS = 1500;
const PAGE = 10;
const PLAYABLE = new Set<RecordingMetadata['status']>(['sealed', 'incomplete']);

function recordedText(r: RecordingMetadata): string {
  const end = r.sealedAt ?? r.lastChunkAt;
  const ms = end ? Date.parse(end) - Date.parse(r.createdAt) : 0;
  // The phone streams as it records, so first to last chunk is about how long the visit was recorded.
  const span = ms >= 1000 ? ` over ${formatSpan(ms)}` : '';
  return `${formatSize(audioBytes(r.storedBytes, r.storedChunks))} of audio in ${r.storedChunks} chunks${span}`;
}

/**
 * The dispute officer's workspace: the officer's own requests across orders
 * (by status, newest first, paged), one request that updates in place until it
 * is decided (then its recordings can be played), and filing a new request.
 */
export class OfficerView {
  private readonly errors = byId('officer-errors', HTMLDivElement);
  private readonly mine = byId('my-requests', HTMLDivElement);
  private readonly statusFilter = byId('my-status', HTMLSelectElement);
  private readonly newer = byId('my-newer', HTMLButtonElement);
  private readonly older = byId('my-older', HTMLButtonElement);
  private readonly orderErrors = byId('order-errors', HTMLDivElement);
  private readonly recordingsBox = byId('order-recordings', HTMLDivElement);
  private readonly fileForm = byId('file-request', HTMLFormElement);
  private readonly panel = byId('request-panel', HTMLDivElement);
  private readonly player: Player;
  /** `after` cursors of the pages before the one shown; the last is the shown page's own */
  private pages: (string | undefined)[] = [undefined];
  private nextAfter: string | null = null;
  /** how many listings were asked for: answers to older ones are dropped */
  private listings = 0;
  private foundOrder: string | null = null;
  private readonly recordings = new Map<string, RecordingMetadata[]>();
  private pollTimer: number | undefined;
  private shownRequest: string | null = null;

  constructor(private readonly api: () => VaultApi) {
    this.player = new Player(api);
    byId('purpose', HTMLSelectElement).append(
      ...PURPOSES.map((p) => el('option', { text: purposeText(p), attrs: { value: p } })),
    );
    this.statusFilter.addEventListener('change', () => this.firstPage());
    this.older.addEventListener('click', () => {
      if (this.nextAfter === null) return;
      this.pages.push(this.nextAfter);
      this.loadMine();
    });
    this.newer.addEventListener('click', () => {
      if (this.pages.length > 1) this.pages.pop();
      this.loadMine();
    });
    onSubmit(byId('find-order', HTMLFormElement), (f) => this.findOrder(inputValue(f, 'orderId')), this.orderErrors);
    onSubmit(this.fileForm, (form) => this.fileRequest(form), this.orderErrors);
  }

  /** Shown when the workspace opens. */
  start(): void {
    this.firstPage();
  }

  private firstPage(): void {
    this.pages = [undefined];
    this.loadMine();
  }

  private loadMine(): void {
    this.listMine().catch((err: unknown) => showError(this.errors, err));
  }

  private async listMine(): Promise<void> {
    const value = this.statusFilter.value;
    const status = REQUEST_STATUSES.find((s) => s === value);
    const asked = ++this.listings;
    const page = await this.api().listRequests({ status, after: this.pages.at(-1), limit: PAGE });
    // A filter changed while this page was on its way: the newer answer is the one to show.
    if (asked !== this.listings) return;
    this.nextAfter = page.nextAfter;
    this.older.hidden = page.nextAfter === null;
    this.newer.hidden = this.pages.length <= 1;
    const first = (this.pages.length - 1) * PAGE;
    this.mine.replaceChildren(
      page.requests.length === 0
        ? el('p', { class: 'muted', text: status ? `No ${status} requests.` : 'You have filed no requests yet.' })
        : table(
            ['Filed', 'Order', 'Purpose', 'Ticket', 'Status', 'Request'],
            page.requests.map((r) => [
              when(r.createdAt),
              r.orderId,
              purposeText(r.purpose),
              r.ticketRef,
              statusBadge(r),
              this.openButton(r),
            ]),
            `Requests ${first + 1}–${first + page.requests.length} of ${page.total}`,
          ),
    );
  }

  private openButton(request: AccessRequest): HTMLButtonElement {
    const button = el('button', {
      text: `Open ${shortId(request.id)}`,
      attrs: { type: 'button', 'data-open': request.id, title: request.id },
    });
    button.addEventListener('click', () => {
      this.api()
        .readRequest(request.id)
        .then((fresh) => this.show(fresh))
        .catch((err: unknown) => showError(this.errors, err));
    });
    return button;
  }

  private async orderRecordings(orderId: string, fresh = false): Promise<RecordingMetadata[]> {
    const known = this.recordings.get(orderId);
    if (known && !fresh) return known;
    const { recordings } = await this.api().orderRecordings(orderId);
    this.recordings.set(orderId, recordings);
    return recordings;
  }

  private async findOrder(orderId: string): Promise<void> {
    this.orderErrors.replaceChildren();
    this.fileForm.hidden = true;
    this.recordingsBox.replaceChildren();
    const recordings = await this.orderRecordings(orderId, true);
    this.foundOrder = orderId;
    this.recordingsBox.replaceChildren(
      recordings.length === 0
        ? el('p', { class: 'muted', text: `Order ${orderId} has no recordings.` })
        : table(
            ['Recording', 'Status', 'Recorded', 'Started', 'Retention'],
            recordings.map((r) => [
              el('code', { text: shortId(r.recordingId), attrs: { title: r.recordingId } }),
              r.status,
              recordedText(r),
              when(r.createdAt),
              retentionText(r),
            ]),
            `Recordings of order ${orderId}`,
          ),
    );
    this.fileForm.hidden = false;
  }

  private async fileRequest(form: HTMLFormElement): Promise<void> {
    if (!this.foundOrder) throw new Error('find an order first');
    const purpose = PURPOSES.find((p) => p === inputValue(form, 'purpose')) satisfies Purpose | undefined;
    if (!purpose) throw new Error('choose a purpose');
    const filed = await this.api().fileRequest({
      orderId: this.foundOrder,
      purpose,
      reason: inputValue(form, 'reason'),
      ticketRef: inputValue(form, 'ticketRef'),
    });
    form.reset();
    form.hidden = true;
    this.recordingsBox.replaceChildren();
    this.foundOrder = null;
    this.statusFilter.value = '';
    this.firstPage();
    this.show(filed);
  }

  /** Shows a request in place and, while it is pending, re-reads it until it is decided. */
  private show(request: AccessRequest): void {
    if (this.shownRequest !== request.id) {
      this.stop();
      this.shownRequest = request.id;
    }
    window.clearTimeout(this.pollTimer);
    const card = el(
      'article',
      { class: 'card', attrs: { 'data-request': request.id, 'aria-labelledby': 'request-title' } },
      el('h3', { attrs: { id: 'request-title' } }, `Request for order ${request.orderId} `, statusBadge(request)),
      el('div', { attrs: { role: 'status' } }, this.statusLine(request)),
      requestFacts(request),
      decisionList(request),
    );
    this.panel.replaceChildren(card);
    if (request.status === 'approved' && request.grantExpiresAt)
      this.addPlayList(card, request, request.grantExpiresAt);
    if (request.status === 'pending') this.pollTimer = window.setTimeout(() => this.poll(request), POLL_MS);
  }

  private statusLine(request: AccessRequest): HTMLElement {
    switch (request.status) {
      case 'pending':
        return el('p', {
          class: 'notice info',
          text: 'Filed. It waits for a department head and the head of security; this page updates by itself.',
        });
      case 'approved':
        return el('p', { class: 'notice ok', text: 'Approved: you may play the recordings below.' });
      case 'rejected':
        return el('p', { class: 'notice error', text: 'Rejected: nothing can be played.' });
      case 'expired':
        return el('p', { class: 'notice error', text: 'Expired before both sign-offs arrived: file a new request.' });
      case 'revoked':
        return el('p', {
          class: 'notice error',
          text: 'The head of security ended this grant: nothing can be played.',
        });
    }
  }

  private poll(previous: AccessRequest): void {
    this.api()
      .readRequest(previous.id)
      .then((r) => {
        if (this.shownRequest !== r.id) return;
        this.show(r);
        // The list row says what the request now is, too.
        if (r.status !== previous.status) this.loadMine();
      })
      .catch((err: unknown) => showError(this.errors, err));
  }

  private addPlayList(card: HTMLElement, request: AccessRequest, grantExpiresAt: string): void {
    const box = el('div', { class: 'play-list' }, el('p', { class: 'muted', text: 'Loading the recordings…' }));
    card.append(box);
    this.orderRecordings(request.orderId, true)
      .then((recordings) => {
        const playable = recordings.filter((r) => PLAYABLE.has(r.status));
        if (playable.length === 0) {
          box.replaceChildren(el('p', { class: 'muted', text: 'This order has no recording that can be played.' }));
          return;
        }
        box.replaceChildren(el('ul', {}, ...playable.map((r) => this.playItem(request, r, grantExpiresAt))));
      })
      .catch((err: unknown) => showError(box, err));
  }

  private playItem(request: AccessRequest, r: RecordingMetadata, grantExpiresAt: string): HTMLLIElement {
    const button = el('button', {
      text: `Play recording ${shortId(r.recordingId)}`,
      attrs: { type: 'button', 'data-recording': r.recordingId },
    });
    button.addEventListener('click', () => {
      this.player.play(request.id, r.recordingId, grantExpiresAt).catch((err: unknown) => showError(this.errors, err));
    });
    return el('li', {}, button, ` ${recordedText(r)}; ${retentionText(r)}`);
  }

  /** Stops polling and unloads any audio (on sign-out, when another request opens). */
  stop(): void {
    window.clearTimeout(this.pollTimer);
    this.shownRequest = null;
    this.player.unload();
  }
}
