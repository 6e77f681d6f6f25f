import { Eye, FileText } from 'lucide-react';
import { useState } from 'react';

import { api, type PitchOut, type PitchVersionOut } from '../api/client';
import { formatBytes, fullTime, versionLabel } from '../lib/format';
import { DownloadLinks } from './DocumentCard';
import { Markdown } from './Markdown';
import { Button, EmptyState, Spinner } from './ui';

function VersionRow({ version: v }: { version: PitchVersionOut }) {
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<{ text?: string; error?: string; loading: boolean }>({ loading: false });
  const toggle = async () => {
    if (open) return setOpen(false);
    setOpen(true);
    if (state.text !== undefined) return;
    setState({ loading: true });
    try {
      setState({ loading: false, text: await api.documentText(v.markdown_url) });
    } catch (err) {
      setState({ loading: false, error: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <li className="border-t border-zinc-100 pt-2 dark:border-zinc-800" data-testid="document-version" data-version={v.version} data-revision={v.revision}>
      <div className="flex flex-wrap items-center gap-2">
        <span className="min-w-0 text-xs text-zinc-600 dark:text-zinc-400">
          <span className="font-medium text-zinc-800 dark:text-zinc-200" data-testid="version-label">
            {versionLabel(v.version)}
          </span>
          {v.undone && (
            <span className="ml-1.5 rounded-full bg-zinc-100 px-1.5 py-0.5 text-[0.6875rem] font-medium text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300" data-testid="version-undone" title="An undo took back the run that saved this version; it stays here to download.">
              undone
            </span>
          )}
          {v.created_at && ` · ${fullTime(v.created_at)}`}
          {v.size ? ` · ${formatBytes(v.size)}` : ''}
          {v.revision > 0 && (
            // The producer's notes that made this version.
            <span className="block text-zinc-500" data-testid="version-notes">
              Revision {v.revision}
              {v.notes.length > 0 && ' · '}
              {v.notes.map((note, i) => (
                <span key={i}>
                  {i > 0 && ', '}“{note}”
                </span>
              ))}
            </span>
          )}
        </span>
        <span className="ml-auto flex flex-wrap items-center gap-1.5">
          <Button size="sm" variant="ghost" icon={Eye} onClick={() => void toggle()} aria-expanded={open}>
            {open ? 'Hide' : 'Preview'}
          </Button>
          <DownloadLinks markdownUrl={v.markdown_url} pdfUrl={v.pdf_url} size="sm" />
        </span>
      </div>
      {open && (
        <div className="mt-2 rounded-lg border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-950" data-testid="document-preview">
          {state.loading && (
            <span className="flex items-center gap-2 text-sm text-zinc-500">
              <Spinner /> Loading…
            </span>
          )}
          {state.error && <p className="text-sm text-rose-600">{state.error}</p>}
          {state.text !== undefined && <Markdown text={state.text} className="md-sm" />}
        </div>
      )}
    </li>
  );
}

/** The session's pitch documents, every version downloadable as Markdown or PDF. */
export function DocumentsPanel({ pitches, error, loading, current }: { pitches: PitchOut[]; error: string | null; loading: boolean; current?: string | null }) {
  if (loading && pitches.length === 0) {
    return (
      <div className="flex items-center justify-center gap-2 py-16 text-sm text-zinc-500">
        <Spinner /> Loading documents…
      </div>
    );
  }
  if (pitches.length === 0) {
    return (
      <EmptyState icon={FileText} title={error ? 'Could not load the documents' : 'No documents yet'} className="py-16">
        {error ?? 'When the file writer saves the pitch, it is listed here to download as Markdown or PDF.'}
      </EmptyState>
    );
  }
  return (
    <ul className="space-y-3 px-4 py-4" data-testid="documents-list">
      {pitches.map((pitch) => (
        <li key={pitch.filename} className="rounded-xl border border-zinc-200 bg-white p-3.5 shadow-xs dark:border-zinc-800 dark:bg-zinc-900" data-testid="document" data-current={pitch.filename === current ? 'true' : undefined}>
          <div className="flex items-center gap-2.5">
            <FileText aria-hidden className="size-5 text-indigo-500" />
            <div className="min-w-0 flex-1">
              <div className="flex items-center gap-2">
                <span className="truncate text-sm font-semibold">{pitch.filename}</span>
                {pitch.filename === current && pitches.length > 1 && (
                  <span className="shrink-0 rounded-full bg-indigo-50 px-2 py-0.5 text-[0.6875rem] font-medium text-indigo-700 dark:bg-indigo-500/10 dark:text-indigo-300">Current film</span>
                )}
              </div>
              <div className="text-xs text-zinc-500">
                {pitch.versions.length} version{pitch.versions.length === 1 ? '' : 's'} · latest {versionLabel(pitch.latest_version)}
              </div>
            </div>
          </div>
          <ul className="mt-3 space-y-2">
            {[...pitch.versions].reverse().map((v) => (
              <VersionRow key={v.version} version={v} />
            ))}
          </ul>
        </li>
      ))}
    </ul>
  );
}
