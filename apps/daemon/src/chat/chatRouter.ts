import {
  chatRefInput,
  createChatInput,
  editChatMessageInput,
  listChatsInput,
  sendChatMessageInput,
  watchChatInput,
} from '@warren/core';
import { authedProcedure, liveStream, router } from '../api/trpc';

export const chatRouter = router({
  create: authedProcedure.input(createChatInput).mutation(async ({ ctx, input }) => {
    // The first message is the user's words, not an audit detail: set before anything can fail.
    ctx.audit.diff = { model: input.model, workspace: input.workspace ?? null };
    const chat = await ctx.services.chats.create(ctx.actor, input);
    ctx.audit.target = { type: 'chat', id: chat.id, name: chat.title ?? undefined };
    return chat;
  }),

  list: authedProcedure
    .input(listChatsInput)
    .query(({ ctx, input }) => ctx.services.chats.list(ctx.actor, input)),

  get: authedProcedure
    .input(chatRefInput)
    .query(({ ctx, input }) => ctx.services.chats.get(ctx.actor, input.chatId)),

  delete: authedProcedure.input(chatRefInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'chat', id: input.chatId };
    await ctx.services.chats.delete(ctx.actor, input.chatId);
    return { deleted: true };
  }),

  /** Queues a message; it runs as soon as the chat's current turn (if any) ends. */
  send: authedProcedure.input(sendChatMessageInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'chat', id: input.chatId };
    ctx.audit.diff = { chars: input.text.length };
    return ctx.services.chats.send(ctx.actor, input);
  }),

  edit: authedProcedure.input(editChatMessageInput).mutation(async ({ ctx, input }) => {
    ctx.audit.target = { type: 'chat', id: input.chatId };
    ctx.audit.diff = { messageId: input.messageId, chars: input.text.length };
    return ctx.services.chats.edit(ctx.actor, input);
  }),

  interrupt: authedProcedure.input(chatRefInput).mutation(({ ctx, input }) => {
    ctx.audit.target = { type: 'chat', id: input.chatId };
    return ctx.services.chats.interrupt(ctx.actor, input.chatId);
  }),

  /** A short summary of the conversation so far (the small model), stored on the chat. */
  summarize: authedProcedure.input(chatRefInput).mutation(({ ctx, input, signal }) => {
    ctx.audit.target = { type: 'chat', id: input.chatId };
    return ctx.services.chats.summarize(ctx.actor, input.chatId, signal);
  }),

  /** The chat as it is (the running turn included), then every delta, in order. */
  watch: authedProcedure
    .input(watchChatInput)
    .subscription(({ ctx, input, signal }) =>
      liveStream(ctx, signal, (stop) => ctx.services.chats.watch(ctx.actor, input.chatId, stop)),
    ),
});
