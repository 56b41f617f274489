import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { type Secret, WarrenError } from '@warren/core';
import type { LanguageModel } from 'ai';
import type { Actor } from '../auth/policy';
import type { DirectorySnapshot, GatewayModel } from '../gateway/DirectorySnapshot';
import { credentialHeader, DELEGATED, GOVERNANCE_HEADER } from '../gateway/forwardedHeaders';
import type { GatewayHandler } from '../gateway/GatewayHandler';
import { GATEWAY_PREFIX } from '../gateway/gatewayRoutes';

/** Never dialled: in-process requests need an absolute URL, and the gateway reads only its path. */
const IN_PROCESS_ORIGIN = 'http://gateway.warren.internal';
/** The SDKs insist on a key; this one is removed before any request leaves. */
const PLACEHOLDER_KEY = 'warren-chat-loop';
/** Names that say a model is a provider's small, fast one. */
const SMALL_MODEL = /mini|nano|haiku|flash|small|lite/i;

export interface ChatModelCall {
  /** Who the call is for: the user and the API key that queued the turn. */
  actor: Actor;
  chatId: string;
  model: GatewayModel;
}

export interface RoutedModel {
  model: LanguageModel;
  /** Credentials this route may carry: scrubbed from anything the turn stores. */
  secrets: Secret[];
  credential: 'central' | 'byok';
}

/**
 * Builds the AI SDK model for one chat turn. By default every request is dispatched into the
 * gateway in-process (`GatewayHandler.handle`, no socket), carrying the actor and the chat id,
 * so each call becomes an interception with the chat and the API key on it. With the user's
 * own key (BYOK), that key goes in the provider's own auth header with the delegated marker;
 * central keys never travel in headers on this path. `direct` (the hidden deployment option
 * for when the gateway is off) sends requests straight to the provider instead, unrecorded.
 */
export class ChatModelRouter {
  constructor(
    private readonly gateway: GatewayHandler,
    private readonly direct: boolean,
  ) {}

  /** The model a chat names ("provider/model" or a bare name); refuses one unknown or not allowed for the caller's roles. */
  async require(requested: string, roles: readonly string[]): Promise<GatewayModel> {
    const snapshot = await this.gateway.directory.snapshot();
    const model = snapshot.resolve('anthropic', requested) ?? snapshot.resolve('openai', requested);
    if (!model)
      throw new WarrenError(
        'NOT_FOUND',
        `The model "${requested}" is not offered here. List the models you may use with "warren ai models".`,
      );
    if (!snapshot.isAllowed(roles, model))
      throw new WarrenError('FORBIDDEN', `Your roles do not allow the model "${model.ref}".`);
    return model;
  }

  /** The provider's small model the caller may use (for titles and summaries), else `model` itself. */
  async small(model: GatewayModel, roles: readonly string[]): Promise<GatewayModel> {
    if (SMALL_MODEL.test(model.name)) return model;
    const snapshot = await this.gateway.directory.snapshot();
    const family = model.provider.family;
    return (
      snapshot
        .listAllowed(family, roles)
        .find((m) => m.provider.id === model.provider.id && SMALL_MODEL.test(m.name)) ?? model
    );
  }

  async route(call: ChatModelCall): Promise<RoutedModel> {
    const snapshot = await this.gateway.directory.snapshot();
    const userKey = ownKey(snapshot, call);
    if (this.direct) return this.#direct(call, userKey);
    const family = call.model.provider.family;
    const fetch = this.#inProcessFetch(call, userKey);
    const baseURL = `${IN_PROCESS_ORIGIN}${GATEWAY_PREFIX}/${family}/v1`;
    return {
      model: languageModel(family, baseURL, fetch, call.model.ref),
      secrets: userKey ? [userKey] : [],
      credential: userKey ? 'byok' : 'central',
    };
  }

  #inProcessFetch(call: ChatModelCall, userKey: Secret | undefined): typeof fetch {
    const family = call.model.provider.family;
    return async (input, init) => {
      // The gateway is told who calls by `actor`; a user's own key goes with the delegated marker.
      const headers = withCredential(init, family, userKey);
      if (userKey) headers.set(GOVERNANCE_HEADER, DELEGATED);
      const request = new Request(input, { ...init, headers });
      return this.gateway.handle(request, { actor: call.actor, chatId: call.chatId });
    };
  }

  #direct(call: ChatModelCall, userKey: Secret | undefined): RoutedModel {
    const provider = call.model.provider;
    const key = userKey ?? provider.keys[0]?.secret;
    if (!key)
      throw new WarrenError(
        'UNAVAILABLE',
        `The AI provider "${provider.name}" has no API key configured. Ask an administrator to add one.`,
      );
    const fetchWithKey: typeof fetch = (input, init) =>
      fetch(input, { ...init, headers: withCredential(init, provider.family, key) });
    const base = `${provider.origin}${provider.basePath}${provider.family === 'anthropic' ? '/v1' : ''}`;
    return {
      model: languageModel(provider.family, base, fetchWithKey, call.model.name),
      secrets: [key],
      credential: userKey ? 'byok' : 'central',
    };
  }
}

/**
 * The request's headers with the SDK's auth (always the placeholder) removed and, if given,
 * `key` in the provider's own auth header.
 */
function withCredential(
  init: RequestInit | undefined,
  family: 'openai' | 'anthropic',
  key: Secret | undefined,
): Headers {
  const headers = new Headers(init?.headers);
  headers.delete('authorization');
  headers.delete('x-api-key');
  if (key) {
    const auth = credentialHeader(family, key.reveal());
    headers.set(auth.name, auth.value);
  }
  return headers;
}

/**
 * The user's own key for the model's provider, when the loop should use it: the provider takes
 * people's keys and the user stored one. A provider that requires one fails closed without it.
 */
function ownKey(snapshot: DirectorySnapshot, call: ChatModelCall): Secret | undefined {
  const provider = call.model.provider;
  if (provider.byok === 'forbidden') return undefined;
  const key = snapshot.userKey(call.actor.userId, provider.id);
  if (!key && provider.byok === 'required')
    throw new WarrenError(
      'FORBIDDEN',
      `The AI provider "${provider.name}" needs your own API key: add it in Warren before using "${call.model.ref}".`,
    );
  return key;
}

function languageModel(
  family: 'openai' | 'anthropic',
  baseURL: string,
  fetch: typeof globalThis.fetch,
  modelId: string,
): LanguageModel {
  if (family === 'anthropic') return createAnthropic({ baseURL, apiKey: PLACEHOLDER_KEY, fetch })(modelId);
  // Chat Completions: what every OpenAI-compatible server (Ollama, vLLM...) speaks too.
  return createOpenAI({ baseURL, apiKey: PLACEHOLDER_KEY, fetch }).chat(modelId);
}
