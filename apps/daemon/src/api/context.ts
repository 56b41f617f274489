import { type Role, WarrenError } from '@warren/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AgentRpc } from '../agents/AgentRpc';
import type { AgentService } from '../agents/AgentService';
import type { AiCatalogService } from '../ai/AiCatalogService';
import type { AiPolicyService } from '../ai/AiPolicyService';
import type { UsageService } from '../ai/UsageService';
import type { AuditService } from '../audit/AuditService';
import type { AuthResult, AuthService } from '../auth/AuthService';
import type { LiveSessions } from '../auth/LiveSessions';
import type { Actor } from '../auth/policy';
import type { BuildService } from '../builds/BuildService';
import type { JobQueue } from '../builds/JobQueue';
import type { ChatService } from '../chat/ChatService';
import type { GatewayHandler } from '../gateway/GatewayHandler';
import type { Logger } from '../log/logger';
import type { ProvisionerIdentity, ProvisionerKeysService } from '../provisioners/ProvisionerKeysService';
import type { SecretBox } from '../secrets/SecretBox';
import type { TemplatesService } from '../templates/TemplatesService';
import type { TunnelRelay } from '../tunnels/TunnelRelay';
import type { WireguardService } from '../tunnels/wireguard/WireguardService';
import type { UsersService } from '../users/UsersService';
import type { WorkspacesService } from '../workspaces/WorkspacesService';

export const SESSION_COOKIE = 'warren_session';

export interface Services {
  auth: AuthService;
  users: UsersService;
  audit: AuditService;
  live: LiveSessions;
  templates: TemplatesService;
  workspaces: WorkspacesService;
  builds: BuildService;
  queue: JobQueue;
  provisionerKeys: ProvisionerKeysService;
  agents: AgentService;
  /** Operations run by workspace agents (files, exec, search): the chat loop's tools. */
  agentRpc: AgentRpc;
  /** Client <-> agent byte tunnels (SSH, terminals) relayed by this daemon. */
  tunnels: TunnelRelay;
  /** WireGuard mode's control plane (agents are asked to join only when the server enables it). */
  wireguard: WireguardService;
  /** AI providers, central and personal keys, models and prices. */
  aiCatalog: AiCatalogService;
  /** Which roles may use which models; budgets and rate limits. */
  aiPolicy: AiPolicyService;
  /** The record of AI gateway calls. */
  aiUsage: UsageService;
  /** Chats and the agent loop that answers them. */
  chats: ChatService;
  /** The AI gateway: provider wire formats in and out; `gateway.handle` is its in-process fetch. */
  gateway: GatewayHandler;
  /** Encrypts provider and BYOK keys at rest. */
  secrets: SecretBox;
  /** How long a provisioner holds a job between renewals. */
  leaseMs: number;
  log: Logger;
  /** True when people reach the server over HTTPS, so cookies get the Secure flag. */
  secureCookies: boolean;
}

/** What a mutation tells the audit middleware about the thing it changed. */
export interface AuditNote {
  /** Who acted, when the request itself was not signed in (a successful sign-in). */
  actor?: { id: string; username: string };
  target?: { type: string; id: string; name?: string | undefined };
  diff?: unknown;
}

export interface Context {
  services: Services;
  req: FastifyRequest;
  reply: FastifyReply;
  ip: string;
  /** The credential the request carried and how, resolved once. */
  auth: AuthResult | undefined;
  via: 'bearer' | 'cookie' | undefined;
  /** An external provisioner, when the request carried a provisioner key. */
  provisioner: ProvisionerIdentity | WarrenError | undefined;
  audit: AuditNote;
}

export const PROVISIONER_KEY_HEADER = 'x-warren-provisioner-key';

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The bearer token if there is one, else the session cookie. */
function presentedCredential(req: FastifyRequest): { raw: string; via: 'bearer' | 'cookie' } | undefined {
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return { raw: match?.[1] ?? '', via: 'bearer' };
  }
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  return cookie ? { raw: cookie, via: 'cookie' } : undefined;
}

/**
 * Cookies ride along on cross-site requests; a cookie-authenticated request from another
 * origin is refused, so a page elsewhere cannot act as the signed-in user.
 */
function crossSiteError(req: FastifyRequest): WarrenError | undefined {
  const origin = req.headers.origin;
  if (!origin) return undefined;
  try {
    if (new URL(origin).host === req.headers.host) return undefined;
  } catch {}
  return new WarrenError(
    'FORBIDDEN',
    "Requests signed in with a cookie must come from this server's own pages.",
  );
}

/** Who a request speaks for: a bearer token, else a same-origin session cookie; undefined if neither. */
export async function authenticateRequest(
  services: Pick<Services, 'auth'>,
  req: FastifyRequest,
): Promise<{ auth: AuthResult | undefined; via: 'bearer' | 'cookie' | undefined }> {
  const credential = presentedCredential(req);
  if (!credential) return { auth: undefined, via: undefined };
  const crossSite = credential.via === 'cookie' ? crossSiteError(req) : undefined;
  const auth = crossSite ? { error: crossSite } : await services.auth.authenticate(credential.raw);
  return { auth, via: credential.via };
}

export async function createContext(
  services: Services,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<Context> {
  const { auth, via } = await authenticateRequest(services, req);
  const key = req.headers[PROVISIONER_KEY_HEADER];
  const provisioner = typeof key === 'string' ? await services.provisionerKeys.authenticate(key) : undefined;
  return { services, req, reply, ip: req.ip, auth, via, provisioner, audit: {} };
}

export function actorOf(ctx: Context): Actor | undefined {
  return ctx.auth && 'actor' in ctx.auth ? ctx.auth.actor : undefined;
}

export type { Actor, Role };
