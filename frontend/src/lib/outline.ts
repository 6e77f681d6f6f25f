/**
 * The plot outline's sections, as the server reads them (backend edits.py): paragraphs opened by
 * `**Title:**`, `**Logline:**` or `**Act I…**`; a paragraph that opens none belongs to the one before
 * (before any section: "Notes").
 */


const SECTION = /^\*\*(Title|Logline):\*\*|^\*\*(Act [IVX]+)\b/;

export interface OutlineSection {
  /** "Title", "Logline", "Act I"…, or "Notes" for paragraphs before any section. */
  name: string;
  text: string;
}

/** The outline's sections in order (a repeated section name keeps its first place). */
export function outlineSections(outline: string): OutlineSection[] {
  const sections: OutlineSection[] = [];
  let current: OutlineSection | null = null;
  for (const raw of outline.trim().split(/\n\s*\n/)) {
    const paragraph = raw.trim();
    if (!paragraph) continue;
    const match = SECTION.exec(paragraph);
    if (match) {
      const name = match[1] ?? match[2] ?? 'Notes';
      const known = sections.find((s) => s.name === name);
      if (known) {
        known.text = paragraph;
        current = known;
      } else {
        current = { name, text: paragraph };
        sections.push(current);
      }
    } else if (current) {
      current.text = `${current.text}\n\n${paragraph}`;
    } else {
      current = { name: 'Notes', text: paragraph };
      sections.push(current);
    }
  }
  return sections;
}

/** The sections an edit changes, in the outline's order ("Title", "Logline", "Act II", any act…). */
export function changedSections(before: string, after: string): string[] {
  const old = new Map(outlineSections(before).map((s) => [s.name, s.text]));
  const now = new Map(outlineSections(after).map((s) => [s.name, s.text]));
  const names = [...new Set([...now.keys(), ...old.keys()])];
  return names.filter((name) => (old.get(name) ?? '') !== (now.get(name) ?? ''));
}

/** What the server needs of an edited outline: a `**Title:**` and a `**Logline:**` with words; null when it has them. */
export function outlineProblem(outline: string): string | null {
  const sections = new Map(outlineSections(outline).map((s) => [s.name, s.text.replace(/^\*\*[^*]+\*\*\s*/, '').trim()]));
  const missing = ['Title', 'Logline'].filter((name) => !sections.get(name));
  if (missing.length === 0) return null;
  return `Keep the ${missing.map((m) => `**${m}:**`).join(' and ')} line${missing.length > 1 ? 's' : ''}: the outline is read by its sections (**Title:** …, **Logline:** …, **Act I: Name.** …).`;
}

/** The sections the producer wrote by hand (state key `producer_edits.sections`). */
export function producerSections(state: Record<string, unknown>): string[] {
  const edits = state.producer_edits;
  if (!edits || typeof edits !== 'object') return [];
  const sections = (edits as { sections?: unknown }).sections;
  return Array.isArray(sections) ? sections.filter((s): s is string => typeof s === 'string') : [];
}
