import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { mapLimit } from '../concurrency.js';
import type { EncryptedChunk, Finished, PhoneClient, RecordingUpload } from './phone-client.js';
import { sha256Hex } from './receipt.js';
import {
  readStateFile,
  removeStateFile,
  StateFileError,
  type UploadStateFile,
  writeFileAtomic,
  writeStateFile,
} from './state-file.js';

/**
 * @module
 * A recording that survives the app being killed. Each chunk is encrypted as
 * it is recorded and spooled to disk (`<state file>.chunks/<seq>-<sha256>`)
 * before the state file counts it; uploads read from the spool. After a
 * restart, resume() reads the state file, asks the vault what it holds and
 * sends the rest. The content key is never written anywhere: a recording
 * whose final chunk was not yet encrypted when the app died cannot be
 * continued (the vault will close it as `incomplete` and play its prefix,
 * marked truncated); the app starts a new recording for the rest of the visit.
 * The spool and the state file are deleted only after the receipt checked.
 */
export interface BeginOptions {
  stateFile: string;
  orderId: string;
  orderPublicKey: string;
  mimeType: string;
  idempotencyKey?: string;
}

export type UploadOutcome =
  | ({ recordingId: string; status: 'sealed' } & Finished)
  /** the app died before the final chunk was encrypted: what was spooled is uploaded, nothing can be sealed */
  | { recordingId: string; status: 'truncated'; chunksUploaded: number; safeToDelete: false };

const spoolDirOf = (stateFile: string) => `${stateFile}.chunks`;
const SPOOL_NAME = /^(\d{6})-([0-9a-f]{64})\.chunk$/;

export class ResumableRecording {
  private constructor(
    private readonly upload: RecordingUpload,
    private readonly stateFile: string,
    private state: UploadStateFile,
  ) {}

  get recordingId(): string {
    return this.state.recordingId;
  }

  /** Starts a recording and its state file; refuses when the file holds one not yet finished. */
  static async begin(client: PhoneClient, options: BeginOptions): Promise<ResumableRecording> {
    if (await readStateFile(options.stateFile))
      throw new StateFileError(`${options.stateFile} holds an unfinished recording: resume it first`);
    const upload = await client.startRecording(options);
    const state: UploadStateFile = {
      v: 1,
      orderId: options.orderId,
      recordingId: upload.recordingId,
      mimeType: options.mimeType,
      nextSeq: 0,
      finalSeq: null,
    };
    await rm(spoolDirOf(options.stateFile), { recursive: true, force: true });
    await mkdir(spoolDirOf(options.stateFile), { recursive: true, mode: 0o700 });
    await writeStateFile(options.stateFile, state);
    return new ResumableRecording(upload, options.stateFile, state);
  }

  /** The recording a killed app left behind, without its content key: it can be uploaded and finished, not extended. */
  static async resume(client: PhoneClient, stateFile: string): Promise<ResumableRecording> {
    const state = await readStateFile(stateFile);
    if (!state) throw new StateFileError(`${stateFile} does not exist: nothing to resume`);
    return new ResumableRecording(client.resume(state.recordingId), stateFile, state);
  }

  /** Encrypts the next chunk and spools it; the last one is `final`, after which the key is wiped. */
  async record(plaintext: Uint8Array, options: { final: boolean }): Promise<void> {
    if (this.state.finalSeq !== null) throw new Error('this recording already ended');
    const seq = this.state.nextSeq;
    const chunk = this.upload.encryptChunk(seq, plaintext, options.final);
    // The chunk is on disk before the state counts it: a kill in between leaves a stray file that resume ignores.
    await writeFileAtomic(this.spoolPath(seq, sha256Hex(chunk.bytes)), chunk.bytes);
    this.state = { ...this.state, nextSeq: seq + 1, finalSeq: options.final ? seq : null };
    await writeStateFile(this.stateFile, this.state);
    if (options.final) await this.upload.forgetKey();
  }

  /** Sends every spooled chunk the vault does not hold yet, `parallel` at a time. */
  async uploadSpooled(parallel = 4): Promise<number> {
    const spooled = await this.spooled();
    const held = new Map((await this.upload.uploadState()).chunks.map((c) => [c.seq, c.sha256]));
    const queue = spooled.filter((c) => held.get(c.seq) !== c.sha256);
    await mapLimit(queue, parallel, async (c) => this.upload.uploadChunk(await this.readSpooled(c)));
    return spooled.length;
  }

  /**
   * Uploads what is spooled and, when the recording ended, completes it and
   * checks the receipt; then (and only then) deletes the spool and the state.
   */
  async finish(parallel = 4): Promise<UploadOutcome> {
    const uploaded = await this.uploadSpooled(parallel);
    if (this.state.finalSeq === null) {
      await this.upload.forgetKey();
      return { recordingId: this.recordingId, status: 'truncated', chunksUploaded: uploaded, safeToDelete: false };
    }
    const hashes = (await this.spooled()).map((c) => c.sha256);
    const finished = await this.upload.finishWithHashes(hashes);
    await rm(spoolDirOf(this.stateFile), { recursive: true, force: true });
    await removeStateFile(this.stateFile);
    return { recordingId: this.recordingId, status: 'sealed', ...finished };
  }

  private spoolPath(seq: number, sha256: string): string {
    return `${spoolDirOf(this.stateFile)}/${String(seq).padStart(6, '0')}-${sha256}.chunk`;
  }

  /** Seqs 0..nextSeq-1 from the spool, with the hash each was written under; a gap is an error. */
  private async spooled(): Promise<{ seq: number; sha256: string }[]> {
    const found = new Map<number, string>();
    for (const name of await readdir(spoolDirOf(this.stateFile))) {
      const m = SPOOL_NAME.exec(name);
      if (m?.[1] && m[2] && Number(m[1]) < this.state.nextSeq) found.set(Number(m[1]), m[2]);
    }
    const out: { seq: number; sha256: string }[] = [];
    for (let seq = 0; seq < this.state.nextSeq; seq++) {
      const sha256 = found.get(seq);
      if (!sha256) throw new StateFileError(`chunk ${seq} is missing from the spool`);
      out.push({ seq, sha256 });
    }
    return out;
  }

  /** A spooled chunk, checked against the hash it was written under (phone storage can fail too). */
  private async readSpooled(c: { seq: number; sha256: string }): Promise<EncryptedChunk> {
    const bytes = new Uint8Array(await readFile(this.spoolPath(c.seq, c.sha256)));
    if (sha256Hex(bytes) !== c.sha256) throw new StateFileError(`spooled chunk ${c.seq} is damaged on this device`);
    return { seq: c.seq, bytes };
  }
}
