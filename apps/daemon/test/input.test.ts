import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../src/server';
import { type ApiOutcome, type CallOptions, callProcedure } from './callProcedure';
import { dialects, rememberSecret, startTestDaemon, type TestDaemon } from './harness';
import { type ProcedureInfo, procedureCatalog, sampleInput } from './procedureCatalog';
import { signIn } from './signIn';

/** A stack frame (`at fn (file:1:2)`) or a source path in a response means internals leaked. */
const INTERNALS = /\bat .*:\d+:\d+|(?:\/[\w.@-]+){2,}\.[cm]?[jt]sx?\b|node_modules/;

/** Starts with a capital letter and ends with a full stop (or ! ?), possibly inside a closing quote. */
const SENTENCE = /^[A-Z][^\n]*[.!?]["')]?$/;

interface BadInput {
  name: string;
  /** Statuses that correctly refuse it. */
  refusedWith: number[];
  call(p: ProcedureInfo): CallOptions;
  /** What the message must mention, so it points at what was wrong. */
  mentions?(p: ProcedureInfo): string | undefined;
}

const OVERSIZED = JSON.stringify({ filler: 'x'.repeat(BODY_LIMIT_BYTES + 1) });

/** The first field of a valid input, swapped for an object, which no field of any schema accepts. */
function firstField(p: ProcedureInfo): string | undefined {
  return Object.keys(sampleInput(p.path) ?? {})[0];
}

const badInputs: BadInput[] = [
  {
    name: 'input that is not JSON',
    refusedWith: [400],
    call: () => ({ raw: '{"username": "half a JSON' }),
  },
  {
    name: 'a value of the wrong type',
    refusedWith: [400],
    call: (p) => {
      const field = firstField(p);
      return { input: field ? { ...sampleInput(p.path), [field]: { not: 'this' } } : 42 };
    },
    mentions: firstField,
  },
  {
    name: 'an unknown field',
    refusedWith: [400],
    call: (p) => ({ input: { ...sampleInput(p.path), surprise: 'field' } }),
    mentions: () => 'surprise',
  },
  {
    name: `a body over ${BODY_LIMIT_BYTES / 1024} KiB`,
    refusedWith: [413],
    call: () => ({ method: 'POST', raw: OVERSIZED }),
  },
  {
    name: 'a plain-text body',
    refusedWith: [400, 415],
    call: () => ({ method: 'POST', raw: 'username=alice', contentType: 'text/plain' }),
  },
];

describe.each(dialects)('bad input to every procedure on %s', (dialect) => {
  let t: TestDaemon;
  let owner: { username: string; password: string; token: string };
  let provisionerKey: string;

  /** As the owner, who may call everything, so the input and not the caller's rights decides. */
  async function send(p: ProcedureInfo, bad: BadInput): Promise<ApiOutcome> {
    // Signing out ends the session it is called with; give it one of its own.
    const token = p.path === 'auth.logout' ? await signIn(t, owner.username, owner.password) : owner.token;
    // The provisioner queue answers provisioner keys, not people.
    if (p.path.startsWith('provisionerd.'))
      return callProcedure(t.url, p.path, p.type, { provisionerKey, ...bad.call(p) });
    return callProcedure(t.url, p.path, p.type, { token, ...bad.call(p) });
  }

  beforeAll(async () => {
    t = await startTestDaemon(dialect);
    owner = await t.setupOwner();
    const created = await t.client(owner.token).provisionerKeys.create.mutate({ name: 'input-test' });
    provisionerKey = rememberSecret(created.key);
  });
  afterAll(() => t?.close());

  for (const p of procedureCatalog) {
    describe(p.path, () => {
      for (const bad of badInputs) {
        it(`refuses ${bad.name} with ${bad.refusedWith.join(' or ')} and a JSON error, never a 500 or a stack trace`, async () => {
          const outcome = await send(p, bad);
          expect(bad.refusedWith, outcome.text).toContain(outcome.status);
          expect(outcome.message, `no JSON error message in: ${outcome.text}`).toEqual(expect.any(String));
          expect(outcome.text).not.toMatch(INTERNALS);
          const mention = bad.mentions?.(p);
          if (mention) expect(outcome.message).toContain(mention);
        });
      }

      it('explains each of those refusals in a sentence', async () => {
        const messages: Record<string, string | undefined> = {};
        for (const bad of badInputs) messages[bad.name] = (await send(p, bad)).message;
        const notSentences = Object.entries(messages).filter(([, m]) => !SENTENCE.test(m ?? ''));
        expect(notSentences.map(([bad, message]) => `${bad}: ${message}`)).toEqual([]);
      });
    });
  }
});
