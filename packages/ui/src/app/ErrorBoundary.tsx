import { Component, type ErrorInfo, type ReactNode } from 'react';
import { Button } from '../design/Button';

interface Props {
  children: ReactNode;
  /** When this changes (the address, say), a screen that failed gets another try. */
  resetKey?: string;
  /** Around the whole app there is no layout yet: the message brings its own main landmark. */
  whole?: boolean;
}

/**
 * What a person sees when a screen throws while rendering, or its code cannot be fetched (a
 * daemon upgraded under an open tab serves new chunk names): a sentence and a way out, never
 * a blank page and never a stack trace. The error goes to the console for whoever debugs it.
 */
export class ErrorBoundary extends Component<Props, { failed: boolean; resetKey: string | undefined }> {
  override state = { failed: false, resetKey: this.props.resetKey };

  static getDerivedStateFromError(): Partial<{ failed: boolean }> {
    return { failed: true };
  }

  static getDerivedStateFromProps(props: Props, state: { failed: boolean; resetKey: string | undefined }) {
    return props.resetKey === state.resetKey ? null : { failed: false, resetKey: props.resetKey };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('A Warren screen failed to render.', error, info.componentStack);
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children;
    const message = (
      <div className="card" role="alert">
        <h1>This page could not be shown</h1>
        <p>
          Something went wrong while loading it, perhaps because Warren was updated or the connection dropped.
          Reloading usually fixes it.
        </p>
        <Button variant="primary" onClick={() => location.reload()}>
          Reload
        </Button>
      </div>
    );
    return this.props.whole ? <main className="centered">{message}</main> : message;
  }
}
