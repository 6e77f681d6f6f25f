/** Light, dark or the system's choice; saved in localStorage, applied as the "dark" class on <html>. */
import { useCallback, useEffect, useState } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'agente-films:theme';

function saved(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

function systemDark(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia('(prefers-color-scheme: dark)').matches;
}

export function useTheme() {
  const [choice, setChoice] = useState<ThemeChoice>(saved);
  const [dark, setDark] = useState(() => (choice === 'system' ? systemDark() : choice === 'dark'));

  useEffect(() => {
    const apply = () => {
      const isDark = choice === 'system' ? systemDark() : choice === 'dark';
      setDark(isDark);
      // Switch in one frame: no element fades between the two themes (.theme-switching in
      // index.css; a class, as the Content-Security-Policy allows no inserted <style>).
      const root = document.documentElement;
      root.classList.add('theme-switching');
      root.classList.toggle('dark', isDark);
      void window.getComputedStyle(document.body).opacity;
      (window.requestAnimationFrame ?? setTimeout)(() => root.classList.remove('theme-switching'));
    };
    apply();
    try {
      if (choice === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      // private mode: the choice lasts for this page only
    }
    if (choice !== 'system' || typeof window.matchMedia !== 'function') return;
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', apply);
    return () => media.removeEventListener('change', apply);
  }, [choice]);

  const cycle = useCallback(() => {
    setChoice((c) => (c === 'system' ? (systemDark() ? 'light' : 'dark') : c === 'dark' ? 'light' : 'dark'));
  }, []);

  return { choice, dark, setChoice, cycle };
}
