import { type Chat, type ChatMessage, type ChatPart, chatPartSchema } from '@warren/core';
import { z } from 'zod';
import type { ChatMessageRow, ChatRow } from './chatQueries';

const storedParts = z.array(chatPartSchema);

export function toChat(row: ChatRow): Chat {
  return {
    id: row.id,
    owner: row.owner,
    workspace: row.workspace,
    model: row.model,
    modelOverride: row.model_override,
    systemPrompt: row.system_prompt,
    title: row.title,
    summary:
      row.summary === null
        ? null
        : {
            text: row.summary,
            upToSeq: Number(row.summary_seq),
            createdAt: new Date(Number(row.summarized_at)).toISOString(),
          },
    parentChatId: row.parent_chat_id,
    apiKeyId: row.api_key_id,
    status: row.status,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

export function toMessage(row: ChatMessageRow): ChatMessage {
  return {
    id: row.id,
    chatId: row.chat_id,
    role: row.role,
    seq: row.seq === null ? null : Number(row.seq),
    parts: parseParts(row.parts),
    status: row.status,
    apiKeyId: row.api_key_id,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

/** Parts as stored; a row written by a newer daemon that this one cannot read shows as an error part. */
function parseParts(text: string): ChatPart[] {
  const parsed = storedParts.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : [{ type: 'error', message: 'This message cannot be shown.' }];
}
