/** How long a user's spend read from the database is trusted before it is read again. */
export const SPEND_REFRESH_MS = 10_000;
const DAY_MS = 86_400_000;

interface Spend {
  dayStart: number;
  monthStart: number;
  /** Pico-dollars spent since dayStart / monthStart. */
  day: number;
  month: number;
  readAt: number;
  reading: Promise<void> | undefined;
}

export type SpendReader = (
  userId: string,
  dayStart: number,
  monthStart: number,
) => Promise<{ day: number; month: number }>;

export interface BudgetLimits {
  dailyBudgetMicros: number | null;
  monthlyBudgetMicros: number | null;
}

export interface BudgetRefusal {
  period: 'day' | 'month';
  budgetMicros: number;
  retryAfterSeconds: number;
}

/**
 * Each user's spend today and this month (UTC), kept in memory: read from the interceptions
 * table at most every ten seconds (in the background once known), with every finished call's
 * cost added as it happens, so checking a budget almost never waits on the database.
 */
export class SpendLedger {
  readonly #spend = new Map<string, Spend>();
  /** Cost of finished calls whose rows are not written yet, so a re-read does not lose them. */
  readonly #unwritten = new Map<string, number>();

  constructor(
    /** Reads a user's spend since the day's and the month's start from the stored rows. */
    private readonly readSpend: SpendReader,
    private readonly now: () => number = Date.now,
    private readonly refreshMs = SPEND_REFRESH_MS,
  ) {}

  /** Refuses a call when the user's daily or monthly budget is spent. */
  async check(userId: string, limits: BudgetLimits): Promise<BudgetRefusal | undefined> {
    const { dailyBudgetMicros: daily, monthlyBudgetMicros: monthly } = limits;
    if (daily === null && monthly === null) return undefined;
    const spend = await this.#current(userId);
    const now = this.now();
    // Budgets are micro-dollars, spend is pico-dollars.
    if (daily !== null && spend.day >= daily * 1e6)
      return {
        period: 'day',
        budgetMicros: daily,
        retryAfterSeconds: secondsUntil(spend.dayStart + DAY_MS, now),
      };
    if (monthly !== null && spend.month >= monthly * 1e6)
      return { period: 'month', budgetMicros: monthly, retryAfterSeconds: secondsUntil(nextMonth(now), now) };
    return undefined;
  }

  /** A call finished: its cost counts from now on, before its row is written. */
  add(userId: string, costPico: number): void {
    if (costPico <= 0) return;
    this.#unwritten.set(userId, (this.#unwritten.get(userId) ?? 0) + costPico);
    const spend = this.#spend.get(userId);
    if (spend) {
      spend.day += costPico;
      spend.month += costPico;
    }
  }

  /** The call's row is in the database now, where the next read will find it. */
  written(userId: string, costPico: number): void {
    if (costPico <= 0) return;
    const left = (this.#unwritten.get(userId) ?? 0) - costPico;
    if (left > 0) this.#unwritten.set(userId, left);
    else this.#unwritten.delete(userId);
  }

  async #current(userId: string): Promise<Spend> {
    const now = this.now();
    const dayStart = now - (now % DAY_MS);
    const monthStart = startOfMonth(now);
    let spend = this.#spend.get(userId);
    if (!spend || spend.dayStart !== dayStart || spend.monthStart !== monthStart) {
      spend = { dayStart, monthStart, day: 0, month: 0, readAt: 0, reading: undefined };
      this.#spend.set(userId, spend);
      await this.#read(userId, spend);
    } else if (now - spend.readAt > this.refreshMs) {
      // Known already: answer from memory and refresh behind it.
      this.#read(userId, spend).catch(() => {});
    }
    if (spend.readAt === 0 && spend.reading) await spend.reading;
    return spend;
  }

  #read(userId: string, spend: Spend): Promise<void> {
    spend.reading ??= this.readSpend(userId, spend.dayStart, spend.monthStart)
      .then((sums) => {
        const unwritten = this.#unwritten.get(userId) ?? 0;
        spend.day = sums.day + unwritten;
        spend.month = sums.month + unwritten;
        spend.readAt = this.now();
      })
      .finally(() => {
        spend.reading = undefined;
      });
    return spend.reading;
  }
}

function startOfMonth(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

function nextMonth(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

function secondsUntil(time: number, now: number): number {
  return Math.max(1, Math.ceil((time - now) / 1000));
}
