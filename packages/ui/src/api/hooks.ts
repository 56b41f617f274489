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

/**
 * Keeps one subscription open per `key`. tRPC's SSE link reconnects by itself; an error that
 * ends the stream is reported once as a sentence. `onStarted` runs once the stream is open:
 * streams carry only what happens after that, so it is where a screen reloads its snapshot.
 */
export function useSubscription<T>(
  key: string | undefined,
  open: (
    api: ApiClient,
    handlers: { onData: (value: T) => void; onError: (e: unknown) => void; onStarted: () => void },
  ) => Unsubscribable,
  onData: (value: T) => void,
  onStarted?: () => void,
): { error: string | undefined } {
  const api = useApi();
  const [error, setError] = useState<string>();
  const onDataRef = useRef(onData);
  onDataRef.current = onData;
  const openRef = useRef(open);
  openRef.current = open;
  const startedRef = useRef(onStarted);
  startedRef.current = onStarted;
  useEffect(() => {
    if (key === undefined) return;
    setError(undefined);
    const sub = openRef.current(api, {
      onData: (value) => onDataRef.current(value),
      onStarted: () => startedRef.current?.(),
      onError: (e) => {
        noticeSignedOut(e);
        setError(errorMessage(e));
      },
    });
    return () => sub.unsubscribe();
  }, [api, key]);
  return { error };
}
