import { Monitor, Moon, Sun } from 'lucide-react';

import type { ThemeChoice } from '../hooks/useTheme';
import { IconButton } from './ui';

export function ThemeToggle({ choice, dark, onCycle }: { choice: ThemeChoice; dark: boolean; onCycle: () => void }) {
  const icon = choice === 'system' ? Monitor : dark ? Moon : Sun;
  const label = `Theme: ${choice === 'system' ? `system (${dark ? 'dark' : 'light'})` : choice}. Switch to ${dark ? 'light' : 'dark'}`;
  return <IconButton icon={icon} label={label} onClick={onCycle} data-testid="theme-toggle" />;
}
