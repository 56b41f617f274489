import { z } from 'zod';
import { workspaceNameSchema } from '../workspaces/schemas';

/** Longest user message the API takes, in characters. */
export const MAX_CHAT_MESSAGE_CHARS = 200_000;
export const MAX_SYSTEM_PROMPT_CHARS = 50_000;

export const chatIdSchema = z.string().uuid('A chat id is a UUID.');
export const chatMessageIdSchema = z.string().uuid('A message id is a UUID.');

/** "provider/model" (pins the provider) or a bare model name, as the gateway lists them. */
export const chatModelSchema = z
  .string()
  .min(1, 'Name a model for the chat.')
  .max(240, 'A model name is at most 240 characters.')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$/, 'A model name may use letters, digits and . _ : @ / + -.');

export const chatStatuses = ['idle', 'running', 'error'] as const;
export type ChatStatus = (typeof chatStatuses)[number];

/** A message's life: queued (sent while a turn runs), running, then done, interrupted or error. */
export const chatMessageStatuses = ['queued', 'running', 'done', 'interrupted', 'error'] as const;
export type ChatMessageStatus = (typeof chatMessageStatuses)[number];

export const chatRoles = ['user', 'assistant'] as const;
export type ChatRole = (typeof chatRoles)[number];

export const textPartSchema = z.object({ type: z.literal('text'), text: z.string() }).strict();
export const reasoningPartSchema = z.object({ type: z.literal('reasoning'), text: z.string() }).strict();

/** A tool call; `argsText` grows while the model streams it, `args` is set once it is complete. */
export const toolCallPartSchema = z
  .object({
    type: z.literal('tool-call'),
    toolCallId: z.string(),
    toolName: z.string(),
    argsText: z.string(),
    args: z.unknown().optional(),
    state: z.enum(['streaming', 'called']),
  })
  .strict();

/** What a tool gave back to the model (as text, truncated), or the error it failed with. */
export const toolResultPartSchema = z
  .object({
    type: z.literal('tool-result'),
    toolCallId: z.string(),
    toolName: z.string(),
    result: z.string(),
    isError: z.boolean(),
  })
  .strict();

export const errorPartSchema = z.object({ type: z.literal('error'), message: z.string() }).strict();

export const chatPartSchema = z.discriminatedUnion('type', [
  textPartSchema,
  reasoningPartSchema,
  toolCallPartSchema,
  toolResultPartSchema,
  errorPartSchema,
]);
export type ChatPart = z.infer<typeof chatPartSchema>;
export type ToolCallPart = z.infer<typeof toolCallPartSchema>;

export const chatMessageSchema = z
  .object({
    id: z.string(),
    chatId: z.string(),
    role: z.enum(chatRoles),
    /** Position in the conversation; null while the message waits in the queue. */
    seq: z.number().int().nullable(),
    parts: z.array(chatPartSchema),
    status: z.enum(chatMessageStatuses),
    /** The API key (token or sign-in session) that sent it, or whose turn produced it. */
    apiKeyId: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .strict();
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/**
 * A short summary of a chat's conversation, written by the provider's small model when someone
 * asks for one. `upToSeq` is the last message it covers: a chat that has moved on since shows a
 * summary of its beginning, and a client can say so.
 */
export const chatSummarySchema = z
  .object({ text: z.string(), upToSeq: z.number().int(), createdAt: z.string() })
  .strict();
export type ChatSummary = z.infer<typeof chatSummarySchema>;

export const chatSchema = z
  .object({
    id: z.string(),
    owner: z.string(),
    workspace: z.string().nullable(),
    model: z.string(),
    /** The model a subagent was asked to use instead of its parent's, if any. */
    modelOverride: z.string().nullable(),
    systemPrompt: z.string().nullable(),
    title: z.string().nullable(),
    summary: chatSummarySchema.nullable(),
    parentChatId: z.string().nullable(),
    apiKeyId: z.string().nullable(),
    status: z.enum(chatStatuses),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .strict();
export type Chat = z.infer<typeof chatSchema>;

/** One change to a chat, in the order it happened; a client folds them onto a snapshot. */
export const chatDeltaSchema = z.discriminatedUnion('type', [
  /** A message appeared or changed as a whole (queued, dequeued, edited). */
  z.object({ type: z.literal('message'), message: chatMessageSchema }).strict(),
  z.object({ type: z.literal('messages-removed'), messageIds: z.array(z.string()) }).strict(),
  z
    .object({
      type: z.literal('part-start'),
      messageId: z.string(),
      index: z.number().int(),
      part: chatPartSchema,
    })
    .strict(),
  /** Text appended to a text or reasoning part. */
  z
    .object({
      type: z.literal('text-delta'),
      messageId: z.string(),
      index: z.number().int(),
      text: z.string(),
    })
    .strict(),
  /** Arguments appended to a streaming tool call. */
  z
    .object({
      type: z.literal('tool-input-delta'),
      messageId: z.string(),
      index: z.number().int(),
      delta: z.string(),
    })
    .strict(),
  /** A part replaced (a tool call whose arguments are complete). */
  z
    .object({
      type: z.literal('part-update'),
      messageId: z.string(),
      index: z.number().int(),
      part: chatPartSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('message-status'),
      messageId: z.string(),
      status: z.enum(chatMessageStatuses),
      updatedAt: z.string(),
    })
    .strict(),
  z.object({ type: z.literal('chat'), chat: chatSchema }).strict(),
]);
export type ChatDelta = z.infer<typeof chatDeltaSchema>;

/**
 * What the chat subscription sends: a snapshot of the chat (everything so far, the running
 * turn included), then each delta after it. `seq` numbers both: a delta's seq is always above
 * the snapshot's, with no gaps, so a client can prove it missed nothing.
 */
export const chatStreamEventSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('snapshot'),
      seq: z.number().int(),
      chat: chatSchema,
      messages: z.array(chatMessageSchema),
    })
    .strict(),
  z.object({ type: z.literal('delta'), seq: z.number().int(), delta: chatDeltaSchema }).strict(),
]);
export type ChatStreamEvent = z.infer<typeof chatStreamEventSchema>;

const chatRef = { chatId: chatIdSchema };
const messageText = z
  .string()
  .min(1, 'A message must not be empty.')
  .max(MAX_CHAT_MESSAGE_CHARS, `A message is at most ${MAX_CHAT_MESSAGE_CHARS} characters.`);

export const createChatInput = z
  .object({
    model: chatModelSchema,
    /** A workspace of yours (or of `workspaceOwner`) whose agent runs the tools. */
    workspace: workspaceNameSchema.optional(),
    workspaceOwner: z.string().max(32).optional(),
    systemPrompt: z.string().max(MAX_SYSTEM_PROMPT_CHARS).optional(),
    /** Without one, a title is generated after the first turn. */
    title: z.string().min(1).max(200).optional(),
    /** The first message, queued at once. */
    message: messageText.optional(),
  })
  .strict();

export const chatRefInput = z.object(chatRef).strict();
export const listChatsInput = z
  .object({ all: z.boolean().optional(), parentChatId: chatIdSchema.optional() })
  .strict()
  .optional();
export const sendChatMessageInput = z.object({ ...chatRef, text: messageText }).strict();
export const editChatMessageInput = z
  .object({ ...chatRef, messageId: chatMessageIdSchema, text: messageText })
  .strict();
/** tRPC's subscription link sends lastEventId when it reconnects; a fresh snapshot answers it. */
export const watchChatInput = z.object({ ...chatRef, lastEventId: z.string().max(100).optional() }).strict();
