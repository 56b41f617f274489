import type { AuthService } from '../auth/AuthService';
import type { LiveSessions } from '../auth/LiveSessions';
import type { Actor } from '../auth/policy';
import type { Db } from '../db/database';
import type { Logger } from '../log/logger';
import type { SecretBox } from '../secrets/SecretBox';
import type { DirectorySnapshot, GatewayModel } from './DirectorySnapshot';
import { handleFetch } from './fetchTransport';
import {
  DELEGATED,
  GOVERNANCE_HEADER,
  type HeaderMap,
  headerValue,
  OVERHEAD_HEADER,
  WARREN_AUTHORIZATION_HEADER,
} from './forwardedHeaders';
import { GatewayAuth } from './GatewayAuth';
import { GatewayDirectory } from './GatewayDirectory';
import type { GatewayCall, GatewayContext, GatewaySink } from './GatewaySink';
import { type GatewayRoute, routeOf } from './gatewayRoutes';
import { Interception } from './Interception';
import { InterceptionRecorder } from './InterceptionRecorder';
import { modelEntry, modelList } from './modelLists';
import { type ErrorOptions, type GatewayErrorKind, providerError } from './providerErrors';
import { RateLimiter } from './RateLimiter';
import { parseModelRequest, upstreamBody } from './requestBody';
import { SpendLedger } from './SpendLedger';
import { type Attempt, UpstreamForwarder } from './UpstreamForwarder';

export interface GatewayDeps {
  db: Db;
  /** On PostgreSQL, the database's URL: a thread writes the interception rows on a connection of its own. */
  postgresUrl?: string;
  auth: AuthService;
  live: LiveSessions;
  secrets: SecretBox;
  log: Logger;
}

export interface GatewayOptions {
  now?: () => number;
  /** How long the upstream may stay silent before the call fails with 504. */
  upstreamTimeoutMs?: number;
  directoryRefreshMs?: number;
}

type ModelCallRoute = Extract<GatewayRoute, { kind: 'model-call' }>;
type Refusal = [GatewayErrorKind, string, ErrorOptions?];

/**
 * The AI gateway's core, independent of transport: provider wire formats in, the same formats
 * out, with Warren's authentication, model policy, credentials, limits and records in between.
 * `handle` takes and returns WHATWG Request/Response, so the chat loop can use it as a fetch
 * function in-process; the HTTP plugin calls `serve` with a sink over the socket instead.
 */
export class GatewayHandler {
  readonly directory: GatewayDirectory;
  readonly #auth: GatewayAuth;
  readonly #limiter: RateLimiter;
  readonly #ledger: SpendLedger;
  readonly #recorder: InterceptionRecorder;
  readonly #upstream: UpstreamForwarder;
  readonly #active = new Set<Promise<void>>();
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(deps: GatewayDeps, options: GatewayOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#log = deps.log;
    this.directory = new GatewayDirectory(deps.db, deps.secrets, deps.log, options.directoryRefreshMs);
    this.#auth = new GatewayAuth(deps.auth, deps.live, this.#now);
    this.#limiter = new RateLimiter(this.#now);
    this.#recorder = new InterceptionRecorder(
      deps.db,
      deps.log,
      (row) => this.#ledger.written(row.user_id, row.cost_pico_usd ?? 0),
      deps.postgresUrl,
    );
    this.#ledger = new SpendLedger(
      (userId, dayStart, monthStart) => this.#recorder.spend(userId, dayStart, monthStart),
      this.#now,
    );
    this.#upstream = new UpstreamForwarder(deps.log, options.upstreamTimeoutMs);
  }

  async start(): Promise<void> {
    await Promise.all([this.directory.start(), this.#recorder.start()]);
  }

  /** Lets in-flight calls finish, then writes every pending record. */
  async close(): Promise<void> {
    this.directory.stop();
    await Promise.allSettled([...this.#active]);
    await this.#recorder.close();
    this.#auth.clear();
    await this.#upstream.close();
  }

  /** Resolves once the calls in flight now have ended and every record is in the database. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#active]);
    await this.#recorder.flush();
  }

  /** One call as WHATWG Request in, Response out (streamed as it arrives). */
  handle(request: Request, context?: GatewayContext): Promise<Response> {
    return handleFetch(this, request, context);
  }

  /** One call, answered into `sink`; resolves once the response has ended. */
  serve(call: GatewayCall, sink: GatewaySink): Promise<void> {
    const route = routeOf(call.method, call.url);
    const x = new Interception(route.family, call.receivedAt, this.#now());
    x.chatId = call.context?.chatId ?? null;
    const done = this.#serve(route, x, call, sink)
      .catch((error) => {
        this.#log.error({ err: error, endpoint: x.endpoint }, 'AI gateway failed a call');
        if (x.headAt === undefined)
          this.#refuse(sink, x, ['internal', 'The AI gateway failed to handle the call.']);
        else sink.destroy();
        x.status = x.status || 500;
      })
      .finally(() => {
        this.#active.delete(done);
        this.#finish(x);
      });
    this.#active.add(done);
    return done;
  }

  async #serve(route: GatewayRoute, x: Interception, call: GatewayCall, sink: GatewaySink): Promise<void> {
    if (route.kind === 'unknown') {
      const what = route.reason === 'method' ? `${call.method} is not supported at` : 'Nothing is served at';
      return this.#refuse(sink, x, ['not_found', `${what} ${call.url.split('?')[0]}.`]);
    }
    const marker = headerValue(call.headers, GOVERNANCE_HEADER);
    const delegated = marker === DELEGATED;
    if (marker !== undefined && !delegated) {
      return this.#refuse(sink, x, [
        'invalid_request',
        `The X-Warren-AI-Governance-Token header may only be "${DELEGATED}", which keeps your own provider key.`,
      ]);
    }
    const actor = call.context?.actor ?? (await this.#authenticate(call.headers, delegated, sink, x));
    if (!actor) return;
    x.actor = actor;
    const snapshot = await this.directory.snapshot();
    if (route.kind === 'models') return this.#models(route, snapshot, actor, sink, x);
    return this.#modelCall(route, snapshot, actor, delegated, call, sink, x);
  }

  async #authenticate(
    headers: HeaderMap,
    delegated: boolean,
    sink: GatewaySink,
    x: Interception,
  ): Promise<Actor | undefined> {
    const token = presentedToken(headers, delegated);
    if (!token) {
      const where = delegated
        ? 'in X-Warren-Authorization: Bearer <token> (a delegated request keeps Authorization for the provider key)'
        : 'as Authorization: Bearer <token> or x-api-key';
      this.#refuse(sink, x, ['authentication', `The AI gateway needs a Warren API token ${where}.`]);
      return undefined;
    }
    const result = await this.#auth.authenticate(token);
    if ('actor' in result) return result.actor;
    this.#refuse(sink, x, ['authentication', result.error.message]);
    return undefined;
  }

  #models(
    route: Extract<GatewayRoute, { kind: 'models' }>,
    snapshot: DirectorySnapshot,
    actor: Actor,
    sink: GatewaySink,
    x: Interception,
  ): void {
    // Answered from memory; a listing is not a model call, so it leaves no interception.
    x.actor = undefined;
    const body =
      route.modelId === undefined
        ? modelList(route.family, snapshot, actor.roles)
        : modelEntry(route.family, snapshot, actor.roles, route.modelId);
    if (body === undefined) {
      this.#refuse(sink, x, ['not_found', `No model "${route.modelId}" is available to you.`]);
      return;
    }
    x.status = 200;
    const headers = { 'content-type': 'application/json', [OVERHEAD_HEADER]: x.markHead().toFixed(3) };
    sink.head(200, headers);
    sink.end(body);
  }

  async #modelCall(
    route: ModelCallRoute,
    snapshot: DirectorySnapshot,
    actor: Actor,
    delegated: boolean,
    call: GatewayCall,
    sink: GatewaySink,
    x: Interception,
  ): Promise<void> {
    x.endpoint = route.endpoint;
    const request = parseModelRequest(call.body);
    if (typeof request === 'string') return this.#refuse(sink, x, ['invalid_request', request]);
    x.requestedModel = request.model;
    x.streaming = request.streaming;
    const model = snapshot.resolve(route.family, request.model);
    if (!model) {
      return this.#refuse(sink, x, [
        'not_found',
        `The model "${request.model}" is not offered by this Warren gateway. List the models you may use at /v1/models.`,
      ]);
    }
    x.model = model;
    if (!snapshot.isAllowed(actor.roles, model))
      return this.#refuse(sink, x, ['permission', `Your roles do not allow the model "${model.ref}".`]);
    const plan = this.#plan(snapshot, model, actor, delegated, request.streaming);
    if ('refusal' in plan) return this.#refuse(sink, x, plan.refusal);
    x.credential = plan.credential;
    const refusal = await this.#limits(snapshot, actor);
    if (refusal) return this.#refuse(sink, x, refusal);

    const raw = call.body as Buffer;
    const bodies = new Map<string, Buffer>();
    await this.#upstream.forward({
      x,
      upstreamPath: route.upstreamPath,
      format: route.format,
      clientHeaders: call.headers,
      delegated,
      attempts: plan.attempts,
      body: (m: GatewayModel) => {
        const known = bodies.get(m.name);
        if (known) return known;
        const body = upstreamBody(raw, request, route.endpoint, m.name);
        bodies.set(m.name, body);
        return body;
      },
      signal: call.signal,
      sink,
      refuse: (kind, message) => this.#refuse(sink, x, [kind, message]),
    });
  }

  /**
   * Which key goes upstream. Delegated: the client's own (BYOK) headers, unless the provider
   * forbids BYOK. Otherwise the user's stored key where BYOK is required, else the central
   * keys in priority order; a non-streamed call may then fail over to the same model at other
   * providers (nothing has reached the client yet, so a retry is invisible).
   */
  #plan(
    snapshot: DirectorySnapshot,
    model: GatewayModel,
    actor: Actor,
    delegated: boolean,
    streaming: boolean,
  ): { attempts: Attempt[]; credential: 'central' | 'byok' } | { refusal: Refusal } {
    const provider = model.provider;
    if (delegated) {
      if (provider.byok === 'forbidden') {
        return {
          refusal: [
            'permission',
            `The AI provider "${provider.name}" does not take people's own keys here; send the call without the delegated marker.`,
          ],
        };
      }
      return { attempts: [{ model, key: undefined }], credential: 'byok' };
    }
    const own = provider.byok === 'forbidden' ? undefined : snapshot.userKey(actor.userId, provider.id);
    if (provider.byok === 'required' || (provider.keys.length === 0 && own)) {
      if (!own) {
        return {
          refusal: [
            'permission',
            `The AI provider "${provider.name}" needs your own API key: add it in Warren before using "${model.ref}".`,
            { noRetry: true },
          ],
        };
      }
      return { attempts: [{ model, key: own }], credential: 'byok' };
    }
    const central = (m: GatewayModel): Attempt[] =>
      m.provider.keys.map((key) => ({ model: m, key: key.secret }));
    let attempts = central(model);
    if (!streaming) {
      for (const other of snapshot.alternatives(model, actor.roles))
        if (other.provider.byok !== 'required') attempts = attempts.concat(central(other));
    }
    if (attempts.length === 0) {
      return {
        refusal: [
          'unavailable',
          `The AI provider "${provider.name}" has no API key configured. Ask an administrator to add one.`,
          { noRetry: true },
        ],
      };
    }
    return { attempts: streaming ? attempts.slice(0, 1) : attempts, credential: 'central' };
  }

  async #limits(snapshot: DirectorySnapshot, actor: Actor): Promise<Refusal | undefined> {
    const limits = snapshot.limits(actor.userId);
    const budget = await this.#ledger.check(actor.userId, limits);
    if (budget) {
      const usd = (budget.budgetMicros / 1e6).toFixed(2);
      const period = budget.period === 'day' ? 'daily' : 'monthly';
      return [
        'budget',
        `You have used your ${period} AI budget of USD ${usd}. It resets at the start of the next ${budget.period} (UTC).`,
        { retryAfterSeconds: budget.retryAfterSeconds },
      ];
    }
    const rate = this.#limiter.admit(actor.userId, limits);
    if (rate) {
      return [
        'rate_limit',
        `Rate limit reached: ${rate.limit} ${rate.kind} per minute. Try again in ${rate.retryAfterSeconds} s.`,
        { retryAfterSeconds: rate.retryAfterSeconds, openAiType: rate.kind },
      ];
    }
    return undefined;
  }

  #refuse(sink: GatewaySink, x: Interception, [kind, message, options]: Refusal): void {
    const reply = providerError(x.family, kind, message, options);
    x.status = reply.status;
    x.error = message;
    reply.headers[OVERHEAD_HEADER] = x.markHead().toFixed(3);
    sink.head(reply.status, reply.headers);
    sink.end(reply.body);
  }

  #finish(x: Interception): void {
    const row = x.toRow();
    if (!row) return;
    this.#limiter.addTokens(row.user_id, x.tokens());
    this.#ledger.add(row.user_id, row.cost_pico_usd ?? 0);
    this.#recorder.record(row);
  }
}

/**
 * The Warren token: X-Warren-Authorization when delegated, else Authorization: Bearer (OpenAI
 * style) or x-api-key (Anthropic style). A client may send both; the one holding a Warren
 * token (wrn_...) wins.
 */
function presentedToken(headers: HeaderMap, delegated: boolean): string | undefined {
  const bearer = (value: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(value ?? '')?.[1];
  if (delegated) return bearer(headerValue(headers, WARREN_AUTHORIZATION_HEADER));
  const authorization = bearer(headerValue(headers, 'authorization'));
  const apiKey = headerValue(headers, 'x-api-key')?.trim();
  if (authorization?.startsWith('wrn_') || !apiKey) return authorization ?? apiKey;
  return apiKey;
}
