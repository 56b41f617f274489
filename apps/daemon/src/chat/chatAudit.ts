const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What the audit log keeps of a chats.* call's input when the procedure did not say (its input
 * failed validation, so the resolver never ran): the ids, and the length of everything else.
 * Message text and system prompts are the user's words, never an audit detail.
 */
export function chatAuditDiff(raw: unknown): Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const diff: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === 'string' && ID.test(value)) diff[key] = value;
    else if (typeof value === 'string') diff[`${key}Chars`] = value.length;
  }
  return diff;
}
