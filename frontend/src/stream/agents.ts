/** The agent team as the UI presents it: names, roles and where each one works. */

export const WRITERS_ROOM = 'writers_room';
export const PREPRODUCTION = 'preproduction_team';
export const FILM_TEAM = 'film_concept_team';

export const WRITER_AGENTS = ['researcher', 'screenwriter', 'critic'] as const;
export const LANE_AGENTS = ['box_office_researcher', 'casting_agent'] as const;

export type WriterAgent = (typeof WRITER_AGENTS)[number];
export type LaneAgent = (typeof LANE_AGENTS)[number];

export interface AgentMeta {
  label: string;
  role: string;
  /** Tailwind classes for the agent's avatar dot / accent. */
  accent: string;
}

const META: Record<string, AgentMeta> = {
  greeter: { label: 'Greeter', role: 'Welcomes you and finds the subject', accent: 'bg-indigo-500' },
  researcher: { label: 'Researcher', role: 'Checks facts on Wikipedia', accent: 'bg-sky-500' },
  screenwriter: { label: 'Screenwriter', role: 'Drafts the plot outline', accent: 'bg-violet-500' },
  critic: { label: 'Critic', role: 'Approves or asks for another round', accent: 'bg-rose-500' },
  box_office_researcher: { label: 'Box office', role: 'Comparable films and market', accent: 'bg-emerald-500' },
  casting_agent: { label: 'Casting', role: 'Who could play whom', accent: 'bg-amber-500' },
  file_writer: { label: 'File writer', role: 'Writes the pitch document', accent: 'bg-slate-500' },
  producer: { label: 'You', role: 'The producer, by hand', accent: 'bg-zinc-700' },
  film_concept_team: { label: 'Film concept team', role: 'The whole team', accent: 'bg-slate-400' },
  writers_room: { label: "Writers' room", role: 'Research, draft, critique', accent: 'bg-violet-400' },
  preproduction_team: { label: 'Preproduction', role: 'Box office and casting', accent: 'bg-emerald-400' },
};

export function agentMeta(name: string | undefined | null): AgentMeta {
  if (!name) return { label: 'Agent', role: '', accent: 'bg-slate-400' };
  return META[name] ?? { label: name.replace(/_/g, ' '), role: '', accent: 'bg-slate-400' };
}

export function isWriter(agent: string | undefined): agent is WriterAgent {
  return agent !== undefined && (WRITER_AGENTS as readonly string[]).includes(agent);
}
