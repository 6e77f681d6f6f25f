import { Menu } from 'lucide-react';
import type { ReactNode } from 'react';

import { IconButton } from './ui';

export function TopBar({ onMenu, children, right }: { onMenu: () => void; children?: ReactNode; right?: ReactNode }) {
  return (
    <header className="flex h-14 shrink-0 items-center gap-2 border-b border-zinc-200 px-3 sm:px-4 dark:border-zinc-800">
      <IconButton icon={Menu} label="Show sessions" onClick={onMenu} className="lg:hidden" data-testid="open-sidebar" />
      <div className="min-w-0 flex-1">{children}</div>
      <div className="flex shrink-0 items-center gap-1.5">{right}</div>
    </header>
  );
}
