import { Component, type ErrorInfo, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/** Any rendering bug shows a readable message with a way out, never a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode; label?: string }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.warn('UI error', error, info.componentStack);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="m-4 rounded-xl border border-rose-200 bg-rose-50 p-4 text-sm text-rose-900 dark:border-rose-500/20 dark:bg-rose-500/10 dark:text-rose-200">
        <div className="font-semibold">Something went wrong {this.props.label ? `in the ${this.props.label}` : 'on this page'}.</div>
        <p className="mt-1 opacity-90">{this.state.error.message}</p>
        <div className="mt-3 flex gap-3">
          <button type="button" className="font-medium underline" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
          <button type="button" className="font-medium underline" onClick={() => window.location.reload()}>
            Reload the page
          </button>
        </div>
      </div>
    );
  }
}
