/**
 * An audit entry as a sentence a person reads ("Hana Head approved req_… for
 * order ord-2001 as department head"). The raw entry stays one click away;
 * an action this file does not know still reads as a sentence.
 */
export interface SentenceEntry {
  actorId: string | null;
  action: string;
  outcome: string;
  orderId: string | null;
  recordingId: string | null;
  details: Record<string, unknown>;
}

const ROLE: Record<string, string> = { department_head: 'department head', security_head: 'head of security' };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** "rec_b01e9a…": enough of an id to tell it apart on a screen. */
export const shortId = (id: string): string => (id.length > 12 ? `${id.slice(0, 12)}…` : id);

export function actorName(actorId: string | null, names: Record<string, string>): string {
  if (actorId === null) return 'The vault';
  if (actorId.startsWith('system:')) return `The vault (${actorId.slice('system:'.length)})`;
  return names[actorId] ?? actorId;
}

export function auditSentence(e: SentenceEntry, names: Record<string, string>): string {
  const who = actorName(e.actorId, names);
  const d = e.details;
  const order = e.orderId ? ` for order ${e.orderId}` : '';
  const rec = e.recordingId ? ` ${shortId(e.recordingId)}` : '';
  const req = str(d.requestId) ? ` ${shortId(String(d.requestId))}` : '';
  if (e.outcome !== 'ok') {
    const why = str(d.code) ?? str(d.reason) ?? str(d.error);
    return `${who} was refused: ${e.action.replace(/[._]/g, ' ')}${order}${why ? ` (${why})` : ''}.`;
  }
  switch (e.action) {
    case 'order.registered':
      return `${who} registered order ${e.orderId ?? ''}.`;
    case 'consent.recorded':
      return `${who} recorded the ${str(d.party) ?? ''} ${d.decision === 'object' ? 'objection' : 'consent'}${order}${str(d.mode) ? ` (${String(d.mode).replace(/_/g, ' ')})` : ''}.`;
    case 'recording.started':
      return `${who} started recording${rec}${order}.`;
    case 'recording.sealed':
      return `Recording${rec}${order} was sealed${typeof d.chunkCount === 'number' ? ` with ${d.chunkCount} chunks` : ''}.`;
    case 'recording.incomplete':
      return `Recording${rec}${order} became incomplete${str(d.reason) ? ` (${String(d.reason).replace(/_/g, ' ')})` : ''}.`;
    case 'recording.expired':
      return `Recording${rec}${order} expired and its audio was destroyed.`;
    case 'recordings.listed':
      return `${who} listed the recordings${order}.`;
    case 'chunk.stored':
      return `${who} uploaded chunk ${String(d.seq ?? '?')} of recording${rec}.`;
    case 'access_request.filed':
      return `${who} asked for access to order ${e.orderId ?? '?'} (request${req}, purpose ${String(d.purpose ?? '?').replace(/_/g, ' ')}, ticket ${String(d.ticketRef ?? '?')}).`;
    case 'access_request.decided':
      return `${who} ${d.decision === 'reject' ? 'rejected' : 'approved'}${req}${order} as ${ROLE[String(d.countedAs)] ?? String(d.countedAs)}${d.status && d.status !== 'pending' ? `; the request is now ${String(d.status)}` : ''}.`;
    case 'access_request.expired':
      return `Request${req}${order} expired before it was decided.`;
    case 'playback.started':
      return `${who} played recording${rec}${order} under request${req}${str(d.served) ? ` (bytes ${String(d.served)})` : ''}.`;
    case 'playback.integrity_failure':
      return `Playback of recording${rec} stopped: a chunk failed its integrity check.`;
    case 'hold.placed':
      return `${who} placed a ${String(d.reason ?? '').replace(/_/g, ' ')} hold${order}${str(d.until) ? ` until ${String(d.until)}` : ' with no end date'}.`;
    case 'hold.lifted':
      return `${who} lifted a hold${order}.`;
    case 'audit.verified':
      return `${who} verified the audit log.`;
    default:
      return `${who}: ${e.action.replace(/[._]/g, ' ')}${order}${rec}.`;
  }
}
