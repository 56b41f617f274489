/**
 * Who may use which model, and which budgets and rate limits apply to whom: pure functions over
 * the rows of ai_role_models and ai_limits, shared by the admin API (the model picker) and the
 * gateway (which enforces them).
 */

/** One row of ai_role_models: members of `role` may use the models `pattern` matches. */
export interface RoleModelRule {
  role: string;
  pattern: string;
}

/** "provider/model", the string role patterns are matched against. */
export function modelRef(provider: string, model: string): string {
  return `${provider}/${model}`;
}

const compiled = new Map<string, RegExp>();

/** Glob match over a whole "provider/model": "*" is any run of characters (slashes too), "?" one. */
export function matchesModelPattern(pattern: string, ref: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    const body = [...pattern]
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${body}$`, 's');
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, regex);
  }
  return regex.test(ref);
}

/**
 * Whether someone with `roles` may use `provider/model`. With no rules at all, everyone may use
 * every enabled model; once any role has a list, only the lists of the caller's roles count.
 */
export function isModelAllowed(
  rules: readonly RoleModelRule[],
  roles: readonly string[],
  provider: string,
  model: string,
): boolean {
  if (rules.length === 0) return true;
  const ref = modelRef(provider, model);
  return rules.some((rule) => roles.includes(rule.role) && matchesModelPattern(rule.pattern, ref));
}

/** One row of ai_limits; budgets in micro-dollars. */
export interface LimitsRow {
  user_id: string;
  daily_budget: number | null;
  monthly_budget: number | null;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
}

/** What applies to one user; null means no limit of that kind. */
export interface EffectiveLimits {
  dailyBudgetMicros: number | null;
  monthlyBudgetMicros: number | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

export const DEFAULT_LIMITS_USER = '*';

/**
 * A user's own row replaces the '*' default as a whole (so an owner can lift a limit for one
 * person by giving them a row with nulls); without either, nothing is limited.
 */
export function effectiveLimits(rows: readonly LimitsRow[], userId: string): EffectiveLimits {
  const row = rows.find((r) => r.user_id === userId) ?? rows.find((r) => r.user_id === DEFAULT_LIMITS_USER);
  return {
    dailyBudgetMicros: row?.daily_budget ?? null,
    monthlyBudgetMicros: row?.monthly_budget ?? null,
    requestsPerMinute: row?.requests_per_minute ?? null,
    tokensPerMinute: row?.tokens_per_minute ?? null,
  };
}
