/** True when the database refused a write because a unique constraint already holds the value. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  // better-sqlite3 codes, PostgreSQL SQLSTATE 23505.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** The constraint or column a unique violation names, for a message that says what collided. */
export function uniqueViolationTarget(error: unknown): string {
  const e = error as { message?: string; constraint?: string; detail?: string };
  return `${e.constraint ?? ''} ${e.detail ?? ''} ${e.message ?? ''}`;
}
