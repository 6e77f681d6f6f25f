/** Parses the researcher's notes: "### Research: query" then "- **Title**: fact (source: URL)" bullets. */

export interface ResearchFact {
  title: string;
  text: string;
  url: string | null;
}

export interface ResearchNote {
  heading: string;
  facts: ResearchFact[];
  /** Lines that are not facts (e.g. "Wikipedia could not be checked"). */
  other: string[];
}

const FACT = /^[-*]\s+\*\*(.+?)\*\*:\s*(.*?)(?:\s*\(source:\s*(\S+?)\))?\s*$/;

export function parseResearch(entry: string): ResearchNote {
  const note: ResearchNote = { heading: '', facts: [], other: [] };
  for (const raw of entry.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading && !note.heading) {
      note.heading = (heading[1] ?? '').replace(/^Research:\s*/i, '');
      continue;
    }
    const fact = FACT.exec(line);
    if (fact) {
      note.facts.push({ title: fact[1] ?? '', text: fact[2] ?? '', url: safeUrl(fact[3]) });
    } else {
      note.other.push(line.replace(/^[-*]\s+/, ''));
    }
  }
  return note;
}

/** Only http(s) links are shown as links. */
export function safeUrl(value: string | undefined | null): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null;
  } catch {
    return null;
  }
}

export function asStringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).filter((v) => v.trim());
  if (typeof value === 'string' && value.trim()) return [value];
  return [];
}

/** "**Title:** Foo" in an outline. */
export function outlineTitle(outline: string): string | null {
  const match = /^\*\*Title:\*\*\s*(.+)$/m.exec(outline);
  return match?.[1]?.trim() || null;
}
