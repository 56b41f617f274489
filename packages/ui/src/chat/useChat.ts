import { applyChatEvent, type ChatState, type ChatStreamEvent } from '@warren/core';
import { useRef, useState } from 'react';
import { useSubscription } from '../api/hooks';

export const CHAT_GONE_MESSAGE = 'This chat no longer exists: it was deleted, or the address is wrong.';

/**
 * A chat as it streams: the snapshot, then each delta folded in by core's applyChatEvent. A
 * gap in the sequence means something was missed: the stream is reopened for a new snapshot.
 * State is tagged with its chat, so moving to another chat never shows the last one's
 * messages under the new address, even for a moment before the new snapshot arrives.
 */
export function useChat(chatId: string) {
  const [shown, setShown] = useState<{ chatId: string; state: ChatState }>();
  const current = useRef<{ chatId: string; state: ChatState }>(undefined);
  const [attempt, setAttempt] = useState(0);
  const { error } = useSubscription<ChatStreamEvent>(
    `${chatId}#${attempt}`,
    (api, handlers) => api.chats.watch.subscribe({ chatId }, handlers),
    (event) => {
      const before = current.current?.chatId === chatId ? current.current.state : undefined;
      try {
        current.current = { chatId, state: applyChatEvent(before, event) };
        setShown(current.current);
      } catch {
        current.current = undefined;
        setAttempt((a) => a + 1);
      }
    },
    undefined,
    { notFound: CHAT_GONE_MESSAGE },
  );
  return { state: shown?.chatId === chatId ? shown.state : undefined, error };
}
