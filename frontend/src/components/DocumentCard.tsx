import { FileDown, FileText } from 'lucide-react';

import { versionLabel } from '../lib/format';

export function DownloadLinks({ markdownUrl, pdfUrl, size = 'md' }: { markdownUrl: string; pdfUrl: string; size?: 'sm' | 'md' }) {
  const base =
    'inline-flex items-center gap-1.5 rounded-lg border border-zinc-200 bg-white font-medium text-zinc-800 shadow-xs transition-colors hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800';
  const dims = size === 'sm' ? 'h-7 px-2 text-xs' : 'h-8 px-3 text-sm';
  return (
    <div className="flex flex-wrap gap-2">
      <a href={markdownUrl} download className={`${base} ${dims}`} data-testid="download-markdown">
        <FileDown aria-hidden className="size-4" /> Markdown
      </a>
      <a href={pdfUrl} download className={`${base} ${dims}`} data-testid="download-pdf">
        <FileDown aria-hidden className="size-4" /> PDF
      </a>
    </div>
  );
}

/** Shown in the chat when the file writer saved the pitch document. */
export function DocumentCard({ filename, version, markdownUrl, pdfUrl, label = 'Pitch document ready' }: { filename: string; version: number; markdownUrl: string; pdfUrl: string; label?: string }) {
  return (
    <div
      data-testid="document-card"
      className="animate-fade-in flex flex-col gap-3 rounded-xl border border-zinc-200 bg-white p-4 shadow-sm sm:flex-row sm:items-center dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex min-w-0 flex-1 items-center gap-3">
        <span className="flex size-10 shrink-0 items-center justify-center rounded-lg bg-indigo-50 text-indigo-600 dark:bg-indigo-500/10 dark:text-indigo-300">
          <FileText aria-hidden className="size-5" />
        </span>
        <div className="min-w-0">
          <div className="text-sm font-semibold text-zinc-900 dark:text-zinc-100">{label}</div>
          <div className="truncate text-xs text-zinc-500 dark:text-zinc-400">
            {filename} · {versionLabel(version)}
          </div>
        </div>
      </div>
      <DownloadLinks markdownUrl={markdownUrl} pdfUrl={pdfUrl} />
    </div>
  );
}
