import { expect, test } from 'vitest';
import { messagesNotInSummary, newerSummary } from './summaryCoverage';

const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, second)).toISOString();
const summary = { text: 'They planned the release.', upToSeq: 2, createdAt: at(30) };

test('a summary is current until a message arrives after the last one it covers', () => {
  const covered = [
    { seq: 1, updatedAt: at(10) },
    { seq: 2, updatedAt: at(20) },
  ];
  expect(messagesNotInSummary(summary, covered)).toBe(0);
  // A message waiting in the queue is not part of the conversation yet.
  expect(messagesNotInSummary(summary, [...covered, { seq: null, updatedAt: at(40) }])).toBe(0);
  expect(
    messagesNotInSummary(summary, [...covered, { seq: 3, updatedAt: at(40) }, { seq: 4, updatedAt: at(41) }]),
  ).toBe(2);
});

test('an answer that was still streaming when the summary was written makes it out of date once it moves on', () => {
  expect(
    messagesNotInSummary(summary, [
      { seq: 1, updatedAt: at(10) },
      { seq: 2, updatedAt: at(45) },
    ]),
  ).toBe(1);
});

test('the later summary wins, whichever way it arrived', () => {
  const later = { ...summary, text: 'Later.', createdAt: at(50) };
  expect(newerSummary(summary, later)).toBe(later);
  expect(newerSummary(later, summary)).toBe(later);
  expect(newerSummary(null, summary)).toBe(summary);
  expect(newerSummary(summary, undefined)).toBe(summary);
  expect(newerSummary(null, undefined)).toBeUndefined();
});
