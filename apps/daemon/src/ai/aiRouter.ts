import {
  addProviderKeyInput,
  byokRefInput,
  createProviderInput,
  listModelsInput,
  listUsageInput,
  modelRefInput,
  noInput,
  providerRefInput,
  removeProviderKeyInput,
  Secret,
  setByokKeyInput,
  setLimitsInput,
  setRoleModelsInput,
  updateProviderInput,
  upsertModelInput,
  usageSummaryInput,
} from '@warren/core';
import { authedProcedure, router } from '../api/trpc';
import { auditedModel, auditedProvider } from './aiViews';

/** Central keys: owners add and remove them; no answer carries more than a key's last 4 characters. */
const providersRouter = router({
  list: authedProcedure.input(noInput).query(({ ctx }) => ctx.services.aiCatalog.listProviders()),

  create: authedProcedure.input(createProviderInput).mutation(async ({ ctx, input }) => {
    const { apiKey, ...settings } = input;
    ctx.audit.target = { type: 'ai_provider', id: input.name, name: input.name };
    const provider = await ctx.services.aiCatalog.createProvider({
      ...settings,
      apiKey: apiKey === undefined ? undefined : new Secret(apiKey),
    });
    ctx.audit.target = { type: 'ai_provider', id: provider.id, name: provider.name };
    ctx.audit.diff = { after: auditedProvider(provider) };
    return provider;
  }),

  update: authedProcedure.input(updateProviderInput).mutation(async ({ ctx, input }) => {
    const { name, ...changes } = input;
    ctx.audit.target = { type: 'ai_provider', id: name, name };
    const { before, after } = await ctx.services.aiCatalog.updateProvider(name, changes);
    ctx.audit.target = { type: 'ai_provider', id: after.id, name };
    ctx.audit.diff = { before: auditedProvider(before), after: auditedProvider(after) };
    return after;
  }),

  delete: authedProcedure.input(providerRefInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'ai_provider', id: input.name, name: input.name };
    const before = await ctx.services.aiCatalog.deleteProvider(input.name);
    ctx.audit.target = { type: 'ai_provider', id: before.id, name: before.name };
    ctx.audit.diff = { before: auditedProvider(before), after: null };
    return { ok: true as const };
  }),

  addKey: authedProcedure.input(addProviderKeyInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'ai_provider', id: input.provider, name: input.provider };
    const added = await ctx.services.aiCatalog.addKey(
      input.provider,
      new Secret(input.apiKey),
      input.priority,
    );
    ctx.audit.target = { type: 'ai_provider_key', id: added.id, name: input.provider };
    ctx.audit.diff = { after: added };
    return { id: added.id, priority: added.priority, last4: added.last4 };
  }),

  removeKey: authedProcedure.input(removeProviderKeyInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'ai_provider_key', id: input.id, name: input.provider };
    const removed = await ctx.services.aiCatalog.removeKey(input.provider, input.id);
    ctx.audit.diff = { before: removed, after: null };
    return { ok: true as const };
  }),
});

/** Prices come in as USD per million tokens and are kept as exact micro-dollars. */
const modelsRouter = router({
  list: authedProcedure
    .input(listModelsInput)
    .query(({ ctx, input }) => ctx.services.aiCatalog.listModels(input?.provider)),

  upsert: authedProcedure.input(upsertModelInput).mutation(async ({ ctx, input }) => {
    const ref = `${input.provider}/${input.name}`;
    ctx.audit.target = { type: 'ai_model', id: ref, name: ref };
    const { before, after } = await ctx.services.aiCatalog.upsertModel(input);
    ctx.audit.target = { type: 'ai_model', id: after.id, name: ref };
    ctx.audit.diff = { before: before && auditedModel(before), after: auditedModel(after) };
    return after;
  }),

  delete: authedProcedure.input(modelRefInput).mutation(async ({ ctx, input }) => {
    const ref = `${input.provider}/${input.name}`;
    ctx.audit.target = { type: 'ai_model', id: ref, name: ref };
    const before = await ctx.services.aiCatalog.deleteModel(input.provider, input.name);
    ctx.audit.target = { type: 'ai_model', id: before.id, name: ref };
    ctx.audit.diff = { before: auditedModel(before), after: null };
    return { ok: true as const };
  }),

  /** What the caller may pick: enabled models their roles allow. */
  available: authedProcedure.input(noInput).query(({ ctx }) => ctx.services.aiPolicy.available(ctx.actor)),
});

/** Each person's own provider keys; nobody sees or changes anyone else's. */
const byokRouter = router({
  list: authedProcedure.input(noInput).query(({ ctx }) => ctx.services.aiCatalog.listOwnKeys(ctx.actor)),

  set: authedProcedure.input(setByokKeyInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = {
      type: 'byok_key',
      id: `${ctx.actor.username}/${input.provider}`,
      name: input.provider,
    };
    const change = await ctx.services.aiCatalog.setOwnKey(
      ctx.actor,
      input.provider,
      new Secret(input.apiKey),
    );
    ctx.audit.diff = change;
    return change.after;
  }),

  delete: authedProcedure.input(byokRefInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = {
      type: 'byok_key',
      id: `${ctx.actor.username}/${input.provider}`,
      name: input.provider,
    };
    const before = await ctx.services.aiCatalog.deleteOwnKey(ctx.actor, input.provider);
    ctx.audit.diff = { before, after: null };
    return { ok: true as const };
  }),
});

const policyRouter = router({
  get: authedProcedure.input(noInput).query(({ ctx }) => ctx.services.aiPolicy.get()),

  setRoleModels: authedProcedure.input(setRoleModelsInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'ai_role_models', id: input.role, name: input.role };
    const { before, after, restricted } = await ctx.services.aiPolicy.setRoleModels(
      input.role,
      input.patterns,
    );
    ctx.audit.diff = { before, after };
    return { ...after, restricted };
  }),

  setLimits: authedProcedure.input(setLimitsInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'ai_limits', id: input.user, name: input.user };
    const change = await ctx.services.aiPolicy.setLimits(input.user, input.limits);
    ctx.audit.diff = change;
    return change.after;
  }),
});

/** Gateway calls: everyone reads their own; owners and auditors everyone's. */
const usageRouter = router({
  list: authedProcedure
    .input(listUsageInput)
    .query(({ ctx, input }) => ctx.services.aiUsage.list(ctx.actor, input ?? {})),

  summary: authedProcedure
    .input(usageSummaryInput)
    .query(({ ctx, input }) => ctx.services.aiUsage.summary(ctx.actor, input)),
});

export const aiRouter = router({
  providers: providersRouter,
  models: modelsRouter,
  byok: byokRouter,
  policy: policyRouter,
  usage: usageRouter,
});
