/**
 * Rebuilds runs from the REST history (questions, answers, reasoning) and the state-version list,
 * for runs the socket can no longer replay (before a restart, or from another day). Writers' room
 * rounds are inferred from the order of the agents: each time the researcher starts again after
 * the critic, a new round begins.
 */
import type { HistoryItem, StateVersionOut, UsageOut } from '../api/client';
import { isWriter } from './agents';
import { newRun, toRunStatus } from './reducer';
import type { Entry, RunView, ToolEntry } from './types';

export function pitchUrls(sessionId: string, filename: string, version: number) {
  const base = `/api/v1/sessions/${sessionId}/pitches/${encodeURIComponent(filename)}`;
  return {
    markdownUrl: `${base}?version=${version}&format=markdown`,
    pdfUrl: `${base}?version=${version}&format=pdf`,
  };
}

interface Timed {
  at: string;
  order: number;
  entry: Entry;
}

function json(value: unknown): string {
  return JSON.stringify(value ?? {});
}

export function runFromHistory(sessionId: string, item: HistoryItem, states: StateVersionOut[] = [], usage?: UsageOut['by_run'][string]): RunView {
  const q = item.question;
  const run = newRun(q.id, q.question_text, 'history');
  run.status = toRunStatus(q.run_status, 'completed');
  run.error = q.run_error ?? null;
  run.startedAt = q.created_at;
  run.finishedAt = q.finished_at ?? null;
  if (usage && usage.calls) {
    run.usage = { calls: usage.calls, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, costUsd: usage.cost_usd };
  }

  const timed: Timed[] = [];
  let order = 0;
  const push = (at: string, entry: Entry) => timed.push({ at, order: order++, entry });
  const tools = new Map<string, ToolEntry>();

  for (const answer of item.answers) {
    push(answer.created_at, { kind: 'message', id: answer.id, agent: answer.agent_name, text: answer.answer_text, done: true, at: answer.created_at });
  }
  // A model turn with text and tool calls is stored calls first, then the text; the model wrote
  // the text first (and the live stream shows it first). Such calls are the ones right before
  // the agent's answer, with no other row of that agent in between: show them after the text.
  const sameTurn = new Map<string, string>();
  for (const answer of item.answers) {
    const before = item.reasoning
      .filter((r) => r.agent_name === answer.agent_name && r.created_at <= answer.created_at)
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    for (let i = before.length - 1; i >= 0; i--) {
      const r = before[i]!;
      if (!['tool_call', 'transfer', 'loop_exit'].includes(r.reasoning_type) || r.answer_id !== answer.id) break;
      sameTurn.set(r.id, answer.created_at);
    }
  }
  const at = (r: (typeof item.reasoning)[number]): string => sameTurn.get(r.id) ?? r.created_at;
  for (const r of item.reasoning) {
    const calls = (r.tool_calls ?? {}) as { id?: string; name?: string; args?: unknown; response?: unknown };
    const callId = calls.id ?? r.id;
    switch (r.reasoning_type) {
      case 'tool_call':
      case 'transfer':
      case 'loop_exit': {
        const name = calls.name ?? (r.reasoning_type === 'transfer' ? 'transfer_to_agent' : r.reasoning_type === 'loop_exit' ? 'exit_loop' : 'tool');
        const entry: ToolEntry = { kind: 'tool', id: callId, agent: r.agent_name, name, args: json(calls.args), done: true, at: r.created_at };
        tools.set(callId, entry);
        push(at(r), entry);
        break;
      }
      case 'tool_result': {
        const existing = tools.get(callId);
        const result = json(calls.response);
        if (existing) existing.result = result;
        else push(at(r), { kind: 'tool', id: callId, agent: r.agent_name, name: calls.name ?? 'tool', args: '{}', result, done: true, at: r.created_at });
        const response = calls.response as { status?: string; filename?: string; version?: number } | undefined;
        if (calls.name === 'save_pitch_document' && response?.status === 'saved' && response.filename) {
          const version = response.version ?? 0;
          push(at(r), {
            kind: 'artifact',
            id: `artifact-${response.filename}-${version}`,
            agent: r.agent_name,
            filename: response.filename,
            version,
            ...pitchUrls(sessionId, response.filename, version),
            at: r.created_at,
          });
        }
        break;
      }
      case 'thought':
        push(at(r), { kind: 'thought', id: r.id, agent: r.agent_name, text: r.reasoning_text, at: r.created_at });
        break;
      case 'error':
        push(at(r), { kind: 'error', id: r.id, agent: r.agent_name, message: r.reasoning_text, at: r.created_at });
        break;
      default:
        push(at(r), { kind: 'thought', id: r.id, agent: r.agent_name, text: r.reasoning_text, at: r.created_at });
    }
  }
  for (const s of states) {
    if (s.question_id !== q.id) continue;
    push(s.created_at, { kind: 'state', id: `state-v${s.version}`, agent: s.agent_name ?? 'agent', keys: s.changed_keys, version: s.version, at: s.created_at });
  }

  timed.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));

  // Rounds: a new one each time the researcher follows another writers' room agent (or none).
  let round = 0;
  let lastWriter: string | null = null;
  const entries: Entry[] = [];
  for (const { entry } of timed) {
    if (isWriter(entry.agent)) {
      if (entry.agent === 'researcher' && lastWriter !== 'researcher') round += 1;
      if (round === 0) round = 1;
      lastWriter = entry.agent;
      entries.push({ ...entry, round });
      if (entry.kind === 'tool' && entry.name === 'exit_loop') run.loopExit = { agent: entry.agent, iteration: round };
    } else {
      entries.push(entry);
    }
    if (entry.agent !== 'greeter' && entry.agent !== 'user') run.teamStarted = true;
  }
  run.entries = entries;
  run.round = round;
  for (const entry of entries) {
    run.steps[entry.agent] = { agent: entry.agent, status: 'done', iteration: entry.round };
  }
  return run;
}

export function runsFromHistory(sessionId: string, items: HistoryItem[], states: StateVersionOut[] = [], usage: UsageOut['by_run'] = {}): RunView[] {
  return items.map((item) => runFromHistory(sessionId, item, states, usage[item.question.id]));
}
