import { z } from 'zod';

export const auditStatuses = ['ok', 'error'] as const;

export const auditEntrySchema = z.object({
  id: z.string(),
  time: z.string(),
  actorId: z.string().nullable(),
  actorUsername: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  targetName: z.string().nullable(),
  sourceIp: z.string().nullable(),
  apiKeyId: z.string().nullable(),
  status: z.enum(auditStatuses),
  errorCode: z.string().nullable(),
  diff: z.unknown(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

const isoTime = z.string().datetime({ offset: true, message: 'Time must be an ISO 8601 timestamp.' });

export const listAuditInput = z
  .object({
    actor: z.string().max(32).optional(),
    action: z.string().max(100).optional(),
    targetType: z.string().max(50).optional(),
    targetId: z.string().max(100).optional(),
    status: z.enum(auditStatuses).optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    limit: z.number().int().min(1).max(1000).optional(),
    /** The id of the last entry of the previous page. */
    before: z.string().max(100).optional(),
  })
  .strict()
  .optional();
