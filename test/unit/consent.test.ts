import { describe, expect, it } from 'vitest';
import { consentGate } from '../../src/domain/consent.js';
import type { ConsentRecord } from '../../src/store/db/orders.js';

const consent = (
  party: ConsentRecord['party'],
  decision: ConsentRecord['decision'] = 'consent',
  mode: ConsentRecord['mode'] = 'explicit',
): ConsentRecord => ({
  id: `${party}-${decision}`,
  orderId: 'o1',
  party,
  decision,
  mode,
  appVersion: '1.0.0',
  recordedBy: 'platform',
  recordedAt: new Date(),
});

describe('consentGate', () => {
  it('is closed with no consents', () => {
    expect(consentGate([])).toEqual({ open: false, reason: 'consent missing from: beautician, customer' });
  });
  it('is closed with one party only', () => {
    expect(consentGate([consent('beautician')])).toMatchObject({
      open: false,
      reason: expect.stringContaining('customer'),
    });
  });
  it('opens with both parties, explicit or notified without objection', () => {
    expect(consentGate([consent('beautician'), consent('customer')]).open).toBe(true);
    expect(consentGate([consent('beautician'), consent('customer', 'consent', 'notified_no_objection')]).open).toBe(
      true,
    );
  });
  it('stays closed once either party objected, even after a later consent', () => {
    expect(consentGate([consent('beautician'), consent('customer', 'object'), consent('customer')])).toMatchObject({
      open: false,
      reason: expect.stringContaining('customer objected'),
    });
    expect(consentGate([consent('beautician', 'object'), consent('customer')]).open).toBe(false);
  });
});
