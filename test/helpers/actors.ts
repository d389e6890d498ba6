import request from 'supertest';
import type { TestVault } from './vault.js';

/** The cast of a visit: platform, beautician, and one order with both consents. */
export interface Visit {
  platformToken: string;
  beauticianToken: string;
  beauticianId: string;
  orderId: string;
  publicKey: string;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function registerOrder(
  vault: TestVault,
  platformToken: string,
  beauticianId: string,
  orderId = unique('order'),
  scheduledAt = '2026-11-24T10:00:00Z',
): Promise<{ orderId: string; publicKey: string }> {
  const res = await request(vault.server)
    .post('/v1/orders')
    .set(bearer(platformToken))
    .send({ orderId, beauticianId, customerId: unique('cust'), scheduledAt });
  if (res.status !== 201) throw new Error(`register order: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { orderId: string; publicKey: string };
}

export async function consent(
  vault: TestVault,
  token: string,
  orderId: string,
  party: 'beautician' | 'customer',
  decision: 'consent' | 'object' = 'consent',
) {
  return request(vault.server)
    .post(`/v1/orders/${orderId}/consents`)
    .set(bearer(token))
    .send({ party, decision, mode: 'explicit', appVersion: '3.2.1' });
}

/** A platform, a beautician and an order both parties consented to. */
export async function newVisit(
  vault: TestVault,
  options: { consents?: boolean; scheduledAt?: string } = {},
): Promise<Visit> {
  const platformToken = await vault.addPrincipal({ id: unique('platform'), roles: ['platform'] });
  const beauticianId = unique('beautician');
  const beauticianToken = await vault.addPrincipal({ id: beauticianId, roles: ['beautician'], department: 'field' });
  const { orderId, publicKey } = await registerOrder(
    vault,
    platformToken,
    beauticianId,
    undefined,
    options.scheduledAt,
  );
  if (options.consents !== false) {
    for (const party of ['beautician', 'customer'] as const) {
      const res = await consent(vault, platformToken, orderId, party);
      if (res.status !== 201) throw new Error(`consent: ${res.status}`);
    }
  }
  return { platformToken, beauticianToken, beauticianId, orderId, publicKey };
}

/** Deterministic fake audio: distinct bytes per chunk so swaps and truncations show. */
export function fakeAudio(bytes: number, seed = 1): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
