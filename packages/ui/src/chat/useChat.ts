import { applyChatEvent, type ChatState, type ChatStreamEvent } from '@warren/core';
import { useRef, useState } from 'react';
import { useSubscription } from '../api/hooks';

/**
 * A chat as it streams: the snapshot, then each delta folded in by core's applyChatEvent. A
 * gap in the sequence means something was missed: the stream is reopened for a new snapshot.
 */
export function useChat(chatId: string) {
  const [state, setState] = useState<ChatState>();
  const current = useRef<ChatState>(undefined);
  const [attempt, setAttempt] = useState(0);
  const { error } = useSubscription<ChatStreamEvent>(
    `${chatId}#${attempt}`,
    (api, handlers) => api.chats.watch.subscribe({ chatId }, handlers),
    (event) => {
      try {
        current.current = applyChatEvent(current.current, event);
        setState(current.current);
      } catch {
        current.current = undefined;
        setAttempt((a) => a + 1);
      }
    },
  );
  return { state, error };
}
