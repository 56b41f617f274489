import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from './ApiContext';
import type { ApiClient } from './client';
import { errorCode, errorMessage } from './errorMessage';
import { useSession } from './session';

export interface QueryState<T> {
  data: T | undefined;
  /** A sentence, when the last load failed. */
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** A signed-out answer anywhere sends the person back to sign-in instead of a dead screen. */
function noticeSignedOut(error: unknown): void {
  if (errorCode(error) === 'UNAUTHORIZED') useSession.getState().signedOut();
}

/**
 * Loads once per `key` and again on reload(). Keeps the previous data while reloading so
 * lists do not flash empty; a response for an older key is dropped.
 */
export function useQuery<T>(key: string, load: (api: ApiClient) => Promise<T>): QueryState<T> {
  const api = useApi();
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [version, setVersion] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  // biome-ignore lint/correctness/useExhaustiveDependencies: key and version are what decide a reload.
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(api).then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => {
        noticeSignedOut(error);
        if (current) setState((s) => ({ data: s.data, error: errorMessage(error), loading: false }));
      },
    );
    return () => {
      current = false;
    };
  }, [api, key, version]);

  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface MutationState<A, R> {
  run: (args: A) => Promise<R | undefined>;
  pending: boolean;
  error: string | undefined;
  reset: () => void;
}

/** A button's action: pending while it runs, its error as a sentence, never a thrown promise. */
export function useMutation<A, R>(call: (api: ApiClient, args: A) => Promise<R>): MutationState<A, R> {
  const api = useApi();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string>();
  const callRef = useRef(call);
  callRef.current = call;
  const run = useCallback(
    async (args: A) => {
      setPending(true);
      setError(undefined);
      try {
        return await callRef.current(api, args);
      } catch (e) {
        noticeSignedOut(e);
        setError(errorMessage(e));
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [api],
  );
  return { run, pending, error, reset: useCallback(() => setError(undefined), []) };
}

interface Unsubscribable {
  unsubscribe(): void;
}

/** What tRPC calls back with; a link that never reports a state (the desktop's IPC) just omits it. */
export interface SubscriptionHandlers<T> {
  onData: (value: T) => void;
  onError: (e: unknown) => void;
  onStarted: () => void;
  onStopped: () => void;
  onComplete: () => void;
  onConnectionStateChange: (state: { state: string; error: unknown }) => void;
}

export const RECONNECTING_MESSAGE = 'Live updates stopped; reconnecting…';

/** Codes that another try cannot fix: the thing is gone, or the person may not see it. */
const FINAL_CODES = new Set(['NOT_FOUND', 'FORBIDDEN', 'UNAUTHORIZED', 'INVALID_INPUT', 'BAD_REQUEST']);
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/**
 * Keeps one subscription open per `key`. A stream that ends (the daemon restarted and closed
 * it, or dropped the connection) is opened again with a growing pause, with "reconnecting…"
 * shown meanwhile; one that ends for good (NOT_FOUND when a chat is deleted, FORBIDDEN) shows
 * the daemon's sentence instead. `onStarted` runs each time the stream opens: streams carry
 * only what happens after that, so it is where a screen reloads its snapshot. `isLast` says
 * which value ends a stream by design (a build's end marker), after which nothing reopens it.
 */
export function useSubscription<T>(
  key: string | undefined,
  open: (api: ApiClient, handlers: SubscriptionHandlers<T>) => Unsubscribable,
  onData: (value: T) => void,
  onStarted?: () => void,
  options?: {
    isLast?: (value: T) => boolean;
    /** The sentence for a stream that ended because its thing is gone (NOT_FOUND). */
    notFound?: string;
  },
): { error: string | undefined } {
  const api = useApi();
  const [error, setError] = useState<string>();
  const onDataRef = useRef(onData);
  onDataRef.current = onData;
  const openRef = useRef(open);
  openRef.current = open;
  const startedRef = useRef(onStarted);
  startedRef.current = onStarted;
  const isLastRef = useRef(options?.isLast);
  isLastRef.current = options?.isLast;
  const notFoundRef = useRef(options?.notFound);
  notFoundRef.current = options?.notFound;
  useEffect(() => {
    if (key === undefined) return;
    setError(undefined);
    let closed = false;
    let finished = false;
    let failures = 0;
    let sub: Unsubscribable | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const connect = () => {
      let ended = false;
      // onStopped, onComplete and onError may each arrive for one ending: act on the first.
      const end = (e?: unknown) => {
        if (ended || closed) return;
        ended = true;
        sub?.unsubscribe();
        if (e !== undefined) {
          noticeSignedOut(e);
          const code = errorCode(e);
          if (code !== undefined && FINAL_CODES.has(code)) {
            closed = true;
            setError((code === 'NOT_FOUND' && notFoundRef.current) || errorMessage(e));
            return;
          }
        }
        if (finished) return;
        setError(RECONNECTING_MESSAGE);
        const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures++);
        timer = setTimeout(connect, delay);
      };
      sub = openRef.current(api, {
        onData: (value) => {
          // Values flowing means the stream is healthy: the next drop starts the backoff anew.
          failures = 0;
          if (isLastRef.current?.(value)) finished = true;
          onDataRef.current(value);
        },
        onStarted: () => {
          if (closed) return;
          setError(undefined);
          startedRef.current?.();
        },
        onError: (e) => end(e),
        onStopped: () => end(),
        onComplete: () => end(),
        // The SSE link retries a dropped connection by itself; say so while it does.
        onConnectionStateChange: (state) => {
          if (!closed && state.state === 'connecting' && state.error) setError(RECONNECTING_MESSAGE);
        },
      });
      // A link may end the stream synchronously, before `sub` was assigned above.
      if (ended) sub.unsubscribe();
    };
    connect();
    return () => {
      closed = true;
      clearTimeout(timer);
      sub?.unsubscribe();
    };
  }, [api, key]);
  return { error };
}
