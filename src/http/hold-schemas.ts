import { z } from 'zod';
import { HOLD_REASONS } from '../domain/vocabulary.js';
import { id, isoTime } from './schemas.js';

export const placeHoldBody = z.strictObject({
  reason: z.enum(HOLD_REASONS),
  until: isoTime.optional(),
  note: z.string().trim().max(1000).optional(),
});

export const holdParams = z.strictObject({ holdId: id });
