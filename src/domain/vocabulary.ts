/**
 * @module
 * The vocabulary of the vault, in one place: the statuses, purposes, reasons
 * and audit actions SPEC.md names. Stores, domain rules and HTTP schemas all
 * import these, so a word added here is checked everywhere at compile time.
 */

export const ROLES = [
  'platform',
  'beautician',
  'dispute_staff',
  'department_head',
  'security_head',
  'auditor',
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

export const RECORDING_STATUSES = ['recording', 'sealed', 'incomplete', 'expired'] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

export const REQUEST_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'revoked'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const PURPOSES = ['dispute', 'safety', 'compliance_check', 'legal_request'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const DECISIONS = ['approve', 'reject'] as const;
export type Decision = (typeof DECISIONS)[number];

/** The two sign-offs an access request needs. */
export const SIGN_OFFS = ['department_head', 'security_head'] as const;
export type SignOff = (typeof SIGN_OFFS)[number];

export const HOLD_REASONS = ['complaint', 'bad_review', 'dispute', 'legal'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

export const CONSENT_PARTIES = ['beautician', 'customer'] as const;
export type ConsentParty = (typeof CONSENT_PARTIES)[number];
export const CONSENT_DECISIONS = ['consent', 'object'] as const;
export type ConsentDecision = (typeof CONSENT_DECISIONS)[number];
export const CONSENT_MODES = ['explicit', 'notified_no_objection'] as const;
export type ConsentMode = (typeof CONSENT_MODES)[number];

export const PLAYBACK_FORMATS = ['original', 'mp3', 'wav', 'ogg'] as const;
export type PlaybackFormat = (typeof PLAYBACK_FORMATS)[number];

export const AUDIT_OUTCOMES = ['ok', 'refused', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Every action the audit log records. */
export const AUDIT_ACTIONS = [
  'principal.bootstrapped',
  'principal.created',
  'principal.revoked',
  'principal.signing_key_set',
  'principal.signing_key_cleared',
  'order.registered',
  'order.keys_shredded',
  'consent.recorded',
  'recording.started',
  'recording.start_replayed',
  'recording.sealed',
  'recording.incomplete',
  'recording.expired',
  'recordings.listed',
  'chunk.stored',
  'chunk.refused',
  'access_request.filed',
  'access_request.decided',
  'access_request.expired',
  'access_request.decision_refused',
  'access_request.revoked',
  'playback.started',
  'playback.refused',
  'playback.integrity_failure',
  'hold.placed',
  'hold.lifted',
  'keys.rewrapped',
  'order.key_moved',
  'epoch.destroyed',
  'hold_key.destroyed',
  'audit.verified',
  'evidence.exported',
  'audit.chain_migrated',
  'webhook.registered',
  'webhook.deleted',
  'request.refused',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Ids the vault's own actors use; no principal may be created with this prefix. */
export const SYSTEM_ACTOR_PREFIX = 'system:';
