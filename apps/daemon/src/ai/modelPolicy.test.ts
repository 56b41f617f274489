import { describe, expect, it } from 'vitest';
import { effectiveLimits, isModelAllowed, type LimitsRow, matchesModelPattern } from './modelPolicy';

describe('model patterns', () => {
  it('match the whole "provider/model", with * across slashes and ? for one character', () => {
    expect(matchesModelPattern('*', 'openai/gpt-4.1')).toBe(true);
    expect(matchesModelPattern('openai/*', 'openai/gpt-4.1')).toBe(true);
    expect(matchesModelPattern('openai/*', 'openai-eu/gpt-4.1')).toBe(false);
    expect(matchesModelPattern('*/gpt-4.1*', 'azure/gpt-4.1-mini')).toBe(true);
    expect(matchesModelPattern('openrouter/*', 'openrouter/anthropic/claude-3.5-sonnet')).toBe(true);
    expect(matchesModelPattern('anthropic/claude-?-haiku', 'anthropic/claude-3-haiku')).toBe(true);
    expect(matchesModelPattern('anthropic/claude-?-haiku', 'anthropic/claude-35-haiku')).toBe(false);
  });

  it('treat every other character literally', () => {
    expect(matchesModelPattern('openai/gpt-4.1', 'openai/gpt-441')).toBe(false);
    expect(matchesModelPattern('openai/gpt-4.1', 'openai/gpt-4.1-mini')).toBe(false);
    expect(matchesModelPattern('ollama/llama3.1:8b', 'ollama/llama3.1:8b')).toBe(true);
    expect(matchesModelPattern('a+b/c', 'aab/c')).toBe(false);
    expect(matchesModelPattern('OpenAI/*', 'openai/gpt-4.1')).toBe(false);
  });
});

describe('who may use a model', () => {
  const rules = [
    { role: 'member', pattern: 'openai/gpt-4.1-mini' },
    { role: 'member', pattern: 'ollama/*' },
    { role: 'owner', pattern: '*' },
  ];

  it('everyone may use everything while no role has a list', () => {
    expect(isModelAllowed([], ['member'], 'anthropic', 'claude-opus-4')).toBe(true);
  });

  it("a person may use what any of their roles' patterns match, and nothing else", () => {
    expect(isModelAllowed(rules, ['member'], 'openai', 'gpt-4.1-mini')).toBe(true);
    expect(isModelAllowed(rules, ['member'], 'ollama', 'qwen3:32b')).toBe(true);
    expect(isModelAllowed(rules, ['member'], 'openai', 'gpt-4.1')).toBe(false);
    expect(isModelAllowed(rules, ['owner', 'member'], 'openai', 'gpt-4.1')).toBe(true);
    expect(isModelAllowed(rules, ['auditor', 'member'], 'anthropic', 'claude-opus-4')).toBe(false);
  });
});

describe('effective limits', () => {
  const row = (user_id: string, daily: number | null, rpm: number | null): LimitsRow => ({
    user_id,
    daily_budget: daily,
    monthly_budget: null,
    requests_per_minute: rpm,
    tokens_per_minute: null,
  });

  it("a user's own row replaces the default as a whole, nulls included", () => {
    const rows = [row('*', 5_000_000, 60), row('u1', null, 600)];
    expect(effectiveLimits(rows, 'u1')).toMatchObject({ dailyBudgetMicros: null, requestsPerMinute: 600 });
    expect(effectiveLimits(rows, 'u2')).toMatchObject({
      dailyBudgetMicros: 5_000_000,
      requestsPerMinute: 60,
    });
  });

  it('nothing is limited without rows', () => {
    expect(effectiveLimits([], 'u1')).toEqual({
      dailyBudgetMicros: null,
      monthlyBudgetMicros: null,
      requestsPerMinute: null,
      tokensPerMinute: null,
    });
  });
});
