import request from 'supertest';
import { PhoneClient, splitIntoChunks } from '../../src/client/phone-client.js';
import { bearer, fakeAudio, type Visit } from './actors.js';
import { signedDecision } from './signing.js';
import type { TestVault } from './vault.js';

let counter = 0;

/** Uploads `audio` through the phone client and seals it; returns the recording id. */
export async function uploadSealed(
  vault: TestVault,
  visit: Visit,
  audio: Uint8Array = fakeAudio(20_000, ++counter),
  chunkSize = 4096,
  mimeType = 'audio/ogg; codecs=opus',
): Promise<string> {
  const phone = new PhoneClient({ baseUrl: vault.baseUrl, token: visit.beauticianToken });
  const upload = await phone.startRecording({ orderId: visit.orderId, orderPublicKey: visit.publicKey, mimeType });
  const chunks = upload.encrypt(splitIntoChunks(audio, chunkSize));
  await upload.forgetKey();
  await upload.uploadMissing(chunks);
  await upload.complete(chunks.length);
  return upload.recordingId;
}

export interface Approval {
  staffToken: string;
  requestId: string;
}

/** A dispute officer's request on the order, approved by a department head and a security head. */
export async function approvedRequest(vault: TestVault, orderId: string): Promise<Approval> {
  const n = ++counter;
  const staffToken = await vault.addPrincipal({
    id: `officer-${process.pid}-${n}`,
    roles: ['dispute_staff'],
    department: 'disputes',
  });
  const headToken = await vault.addPrincipal({
    id: `head-${process.pid}-${n}`,
    roles: ['department_head'],
    department: 'disputes',
  });
  const securityToken = await vault.addPrincipal({
    id: `security-${process.pid}-${n}`,
    roles: ['security_head'],
    department: 'security',
  });
  const filed = await request(vault.server)
    .post('/v1/access-requests')
    .set(bearer(staffToken))
    .send({ orderId, purpose: 'dispute', reason: 'customer complaint about the visit', ticketRef: `T-${n}` });
  if (filed.status !== 201) throw new Error(`file request: ${filed.status} ${JSON.stringify(filed.body)}`);
  const requestId = filed.body.id as string;
  for (const token of [headToken, securityToken]) {
    const res = await request(vault.server)
      .post(`/v1/access-requests/${requestId}/decisions`)
      .set(bearer(token))
      .send(await signedDecision(vault.baseUrl, token, requestId, 'approve', 'ok'));
    if (res.status !== 200) throw new Error(`decision: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { staffToken, requestId };
}

/** GET the original audio; resolves with status and bytes. */
export async function play(
  vault: TestVault,
  approval: Approval,
  recordingId: string,
): Promise<{ status: number; body: Buffer; code?: string }> {
  const res = await request(vault.server)
    .get(`/v1/access-requests/${approval.requestId}/recordings/${recordingId}/audio`)
    .set(bearer(approval.staffToken))
    .buffer(true)
    .parse((r, cb) => {
      const parts: Buffer[] = [];
      r.on('data', (c: Buffer) => parts.push(c));
      r.on('end', () => cb(null, Buffer.concat(parts)));
    });
  const body = res.body as Buffer;
  let code: string | undefined;
  if (res.status >= 400) code = (JSON.parse(body.toString('utf8')) as { error: { code: string } }).error.code;
  return { status: res.status, body, code };
}
