import { ApiError, type VaultApi } from './api.js';
import { byId, notice, showError, when } from './dom.js';

/**
 * Plays one recording of an approved request. An <audio src> cannot carry the
 * Authorization header and the token never goes in a URL, so the audio is
 * fetched with the header and played from a blob: URL (seekable), revoked when
 * another recording loads, on stop, on sign-out, and when the grant ends.
 */
export class Player {
  private readonly panel = byId('player-panel', HTMLDivElement);
  private readonly audio = byId('player', HTMLAudioElement);
  private readonly title = byId('player-title', HTMLHeadingElement);
  private readonly status = byId('player-status', HTMLParagraphElement);
  private objectUrl: string | null = null;
  private grantTimer: number | undefined;

  constructor(private readonly api: () => VaultApi) {
    byId('player-stop', HTMLButtonElement).addEventListener('click', () => {
      this.unload();
      this.panel.hidden = true;
    });
  }

  async play(requestId: string, recordingId: string, grantExpiresAt: string): Promise<void> {
    this.unload();
    this.panel.hidden = false;
    this.title.textContent = `Recording ${recordingId}`;
    notice(this.status, 'info', 'Decrypting and downloading…');
    let blob: Blob;
    try {
      blob = await this.api().audio(requestId, recordingId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 410)
        notice(this.status, 'error', `The grant expired: ${err.message} (${err.code})`);
      else showError(this.status, err);
      return;
    }
    this.objectUrl = URL.createObjectURL(blob);
    this.audio.src = this.objectUrl;
    notice(this.status, 'ok', `Loaded ${blob.size} bytes. You may play until ${when(grantExpiresAt)}.`);
    this.expireAt(grantExpiresAt);
  }

  /** When the grant ends the downloaded copy goes too, as the vault would refuse it from then on. */
  private expireAt(grantExpiresAt: string): void {
    const ms = Date.parse(grantExpiresAt) - Date.now();
    if (Number.isNaN(ms)) return;
    // setTimeout holds at most 2^31-1 ms; grants are hours long, so clamp and re-check.
    this.grantTimer = window.setTimeout(
      () => {
        if (Date.parse(grantExpiresAt) > Date.now()) return this.expireAt(grantExpiresAt);
        this.unload();
        notice(this.status, 'error', `The grant expired at ${when(grantExpiresAt)}: ask for access again.`);
      },
      Math.min(Math.max(ms, 0), 2 ** 31 - 1),
    );
  }

  unload(): void {
    window.clearTimeout(this.grantTimer);
    this.audio.pause();
    this.audio.removeAttribute('src');
    this.audio.load();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  }
}
