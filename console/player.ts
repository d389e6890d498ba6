import { ApiError, type VaultApi } from './api.js';
import { byId, notice, showError } from './dom.js';
import { formatSpan, formatTime } from './format.js';

/** How long to wait for the service worker to take charge of this page before falling back. */
const WORKER_WAIT_MS = 3000;

/** Registers the console's service worker (worker/sw.ts); resolves once it controls this page, or false. */
export function streamingReady(): Promise<boolean> {
  const sw = navigator.serviceWorker;
  if (!sw) return Promise.resolve(false);
  if (sw.controller) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = window.setTimeout(() => resolve(false), WORKER_WAIT_MS);
    sw.addEventListener(
      'controllerchange',
      () => {
        window.clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
  });
}

/**
 * Plays one recording of an approved request. <audio> streams it from the
 * vault and seeks with Range requests; the console's service worker adds the
 * bearer header to those requests, so the token never goes in a URL. Where no
 * service worker can run, the recording is fetched whole and played from a
 * blob: URL. Either way the audio is unloaded when the grant ends.
 */
export class Player {
  private readonly panel = byId('player-panel', HTMLDivElement);
  private readonly audio = byId('player', HTMLAudioElement);
  private readonly title = byId('player-title', HTMLHeadingElement);
  private readonly status = byId('player-status', HTMLParagraphElement);
  private objectUrl: string | null = null;
  private grantTimer: number | undefined;
  private playing: { requestId: string; recordingId: string; grantExpiresAt: string } | null = null;

  constructor(private readonly api: () => VaultApi) {
    byId('player-stop', HTMLButtonElement).addEventListener('click', () => {
      this.unload();
      this.panel.hidden = true;
    });
    this.audio.addEventListener('loadedmetadata', () => {
      if (!this.playing) return;
      const length = Number.isFinite(this.audio.duration) ? `${formatSpan(this.audio.duration * 1000)} of audio. ` : '';
      notice(this.status, 'ok', `${length}You may play until ${formatTime(this.playing.grantExpiresAt)}.`);
    });
    this.audio.addEventListener('error', () => {
      if (this.playing && this.audio.getAttribute('src')) this.explainFailure(this.playing);
    });
  }

  async play(requestId: string, recordingId: string, grantExpiresAt: string): Promise<void> {
    this.unload();
    this.panel.hidden = false;
    this.title.textContent = `Recording ${recordingId}`;
    this.playing = { requestId, recordingId, grantExpiresAt };
    if (await streamingReady()) {
      notice(this.status, 'info', 'Loading: playback starts as soon as the first audio arrives…');
      this.audio.src = this.api().audioUrl(requestId, recordingId);
    } else {
      notice(this.status, 'info', 'Downloading the whole recording (this browser cannot stream it)…');
      try {
        this.objectUrl = URL.createObjectURL(await this.api().audio(requestId, recordingId));
      } catch (err) {
        this.showFailure(err, grantExpiresAt);
        return;
      }
      this.audio.src = this.objectUrl;
    }
    this.audio.focus();
    this.expireAt(grantExpiresAt);
  }

  /** <audio> says only that it failed; one byte asked with the token says why (a 410, a 403, ...). */
  private explainFailure(p: { requestId: string; recordingId: string; grantExpiresAt: string }): void {
    this.api()
      .audioProbe(p.requestId, p.recordingId)
      .then(() => notice(this.status, 'error', 'The browser could not play this recording.'))
      .catch((err: unknown) => this.showFailure(err, p.grantExpiresAt));
  }

  private showFailure(err: unknown, grantExpiresAt: string): void {
    if (err instanceof ApiError && err.status === 410)
      notice(this.status, 'error', `The grant expired (${formatTime(grantExpiresAt)}): ${err.message} (${err.code})`);
    else showError(this.status, err);
  }

  /** When the grant ends the audio goes too, as the vault would refuse it from then on. */
  private expireAt(grantExpiresAt: string): void {
    const ms = Date.parse(grantExpiresAt) - Date.now();
    if (Number.isNaN(ms)) return;
    // setTimeout holds at most 2^31-1 ms; grants are hours long, so clamp and re-check.
    this.grantTimer = window.setTimeout(
      () => {
        if (Date.parse(grantExpiresAt) > Date.now()) return this.expireAt(grantExpiresAt);
        this.unload();
        notice(this.status, 'error', `The grant expired at ${formatTime(grantExpiresAt)}: ask for access again.`);
      },
      Math.min(Math.max(ms, 0), 2 ** 31 - 1),
    );
  }

  unload(): void {
    window.clearTimeout(this.grantTimer);
    this.playing = null;
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  }
}
