import type { VaultApi } from './api.js';
import { type AccessRequest, PURPOSES, type Purpose, type RecordingMetadata } from './api-types.js';
import { byId, el, inputValue, notice, onSubmit, showError, table, when } from './dom.js';
import { Player } from './player.js';
import { decisionList, requestFacts, statusBadge } from './request-view.js';

const POLL_MS = 1500;
const PLAYABLE = new Set<RecordingMetadata['status']>(['sealed', 'incomplete']);

/** The dispute officer's page: an order's recordings, access requests, sign-offs as they come, playback. */
export class OfficerView {
  private readonly errors = byId('officer-errors', HTMLDivElement);
  private readonly recordingsBox = byId('order-recordings', HTMLDivElement);
  private readonly requestsBox = byId('order-requests', HTMLDivElement);
  private readonly fileForm = byId('file-request', HTMLFormElement);
  private readonly panel = byId('request-panel', HTMLDivElement);
  private readonly player: Player;
  private orderId: string | null = null;
  private recordings: RecordingMetadata[] = [];
  private pollTimer: number | undefined;
  private shownRequest: string | null = null;

  constructor(private readonly api: () => VaultApi) {
    this.player = new Player(api);
    byId('purpose', HTMLSelectElement).append(
      ...PURPOSES.map((p) => el('option', { text: p.replace('_', ' '), attrs: { value: p } })),
    );
    onSubmit(byId('find-order', HTMLFormElement), (form) => this.findOrder(inputValue(form, 'orderId')), this.errors);
    onSubmit(this.fileForm, (form) => this.fileRequest(form), this.errors);
  }

  private async findOrder(orderId: string): Promise<void> {
    this.stop();
    this.errors.replaceChildren();
    this.panel.replaceChildren();
    const { recordings } = await this.api().orderRecordings(orderId);
    this.orderId = orderId;
    this.recordings = recordings;
    this.recordingsBox.replaceChildren(
      el('h3', { text: `Recordings of order ${orderId}` }),
      recordings.length === 0
        ? el('p', { class: 'muted', text: 'No recordings.' })
        : table(
            ['Recording', 'Status', 'Type', 'Chunks', 'Bytes', 'Started', 'Sealed', 'Kept until', 'Holds'],
            recordings.map((r) => [
              r.recordingId,
              r.status,
              r.mimeType,
              `${r.storedChunks}${r.chunkCount === null ? '' : ` of ${r.chunkCount}`}`,
              String(r.storedBytes),
              when(r.createdAt),
              when(r.sealedAt),
              when(r.retainUntil),
              (r.holds ?? []).map((h) => h.reason).join(', ') || '—',
            ]),
          ),
    );
    await this.listRequests(orderId);
    this.fileForm.hidden = false;
  }

  private async listRequests(orderId: string): Promise<void> {
    const { requests } = await this.api().listRequests({ orderId });
    this.requestsBox.replaceChildren(
      el('h3', { text: 'Requests for this order' }),
      requests.length === 0
        ? el('p', { class: 'muted', text: 'None yet.' })
        : table(
            ['Request', 'Status', 'Purpose', 'Ticket', 'Filed', ''],
            requests.map((r) => [r.id, statusBadge(r), r.purpose, r.ticketRef, when(r.createdAt), this.openButton(r)]),
          ),
    );
  }

  private openButton(request: AccessRequest): HTMLButtonElement {
    const button = el('button', { text: 'Open', attrs: { type: 'button' } });
    button.addEventListener('click', () => {
      this.api()
        .readRequest(request.id)
        .then((fresh) => this.show(fresh))
        .catch((err: unknown) => showError(this.errors, err));
    });
    return button;
  }

  private async fileRequest(form: HTMLFormElement): Promise<void> {
    if (!this.orderId) throw new Error('find an order first');
    const purpose = inputValue(form, 'purpose') as Purpose;
    const filed = await this.api().fileRequest({
      orderId: this.orderId,
      purpose,
      reason: inputValue(form, 'reason'),
      ticketRef: inputValue(form, 'ticketRef'),
    });
    form.reset();
    await this.listRequests(this.orderId);
    notice(
      this.errors,
      'ok',
      `Request ${filed.id} filed: it now waits for a department head and the head of security.`,
    );
    this.show(filed);
  }

  /** Shows a request and, while it is pending, polls it until it is decided. */
  private show(request: AccessRequest): void {
    if (this.shownRequest !== request.id) {
      this.stop();
      this.shownRequest = request.id;
    }
    const body = el(
      'div',
      { class: 'card', attrs: { 'data-request': request.id } },
      el('h3', {}, 'Access request ', statusBadge(request)),
      requestFacts(request),
      decisionList(request),
    );
    if (request.status === 'pending')
      body.append(el('p', { class: 'muted', text: 'Waiting for sign-offs; this page checks every few seconds.' }));
    if (request.status === 'rejected')
      body.append(el('p', { class: 'notice error', text: 'This request was rejected: nothing can be played.' }));
    if (request.status === 'expired')
      body.append(el('p', { class: 'notice error', text: 'This request expired before it was decided.' }));
    if (request.status === 'approved' && request.grantExpiresAt)
      body.append(this.playList(request, request.grantExpiresAt));
    this.panel.replaceChildren(body);
    if (request.status === 'pending') this.pollTimer = window.setTimeout(() => this.poll(request.id), POLL_MS);
  }

  private poll(id: string): void {
    this.api()
      .readRequest(id)
      .then((r) => {
        if (this.shownRequest === id) this.show(r);
      })
      .catch((err: unknown) => showError(this.errors, err));
  }

  private playList(request: AccessRequest, grantExpiresAt: string): HTMLElement {
    const playable = this.recordings.filter((r) => PLAYABLE.has(r.status));
    if (playable.length === 0)
      return el('p', { class: 'muted', text: 'This order has no recording that can be played.' });
    return el(
      'ul',
      { class: 'play-list' },
      ...playable.map((r) => {
        const button = el('button', {
          text: `Play ${r.recordingId}`,
          attrs: { type: 'button', 'data-recording': r.recordingId },
        });
        button.addEventListener('click', () => {
          button.disabled = true;
          this.player
            .play(request.id, r.recordingId, grantExpiresAt)
            .catch((err: unknown) => showError(this.errors, err))
            .finally(() => {
              button.disabled = false;
            });
        });
        return el('li', {}, button, ` ${r.mimeType}, ${r.storedBytes} bytes encrypted`);
      }),
    );
  }

  /** Stops polling and unloads any audio (on a new search, on sign-out). */
  stop(): void {
    window.clearTimeout(this.pollTimer);
    this.shownRequest = null;
    this.player.unload();
  }
}
