// Summary statistics over samples (milliseconds, usually).

/** The p-th percentile (0 to 100, nearest rank) of values sorted ascending; NaN when there are none. */
export function percentile(sorted, p) {
  const count = sorted.length;
  return count ? sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)] : Number.NaN;
}

/** The median of values in any order (the mean of the middle two for an even count); NaN when none. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
