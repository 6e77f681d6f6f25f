/** Branches of sessions: where one starts, and the sidebar's tree of sessions and their branches. */
import type { BranchPoint, SessionOut } from '../api/client';

/** "from round 1" (branched at the end of a writers' room round) or "from version 12" (a state snapshot). */
export function branchPointLabel(point: BranchPoint | null | undefined): string {
  if (!point) return '';
  if (typeof point.round === 'number') return `from round ${point.round}`;
  return `from version ${point.version}`;
}

/** A branch: it has a parent, or had one (a deleted parent leaves `parent_id` null, the branch point stays). */
export function isBranch(session: SessionOut): boolean {
  return Boolean(session.parent_id || session.branch_point);
}

export interface TreeRow {
  session: SessionOut;
  /** 0 for a top-level session, 1 for a branch of one, and so on. */
  depth: number;
  /** A branch whose parent is not in the loaded list: shown at the top level, marked as a branch. */
  orphan: boolean;
}

/**
 * The sessions as the sidebar lists them: in the list's order (newest first), each branch right under
 * its parent (and a branch of a branch under that), with its depth. A branch whose parent is not in
 * the loaded page stays at the top level, marked `orphan`.
 */
export function sessionTree(items: SessionOut[]): TreeRow[] {
  const ids = new Set(items.map((s) => s.id));
  const children = new Map<string, SessionOut[]>();
  const roots: SessionOut[] = [];
  for (const session of items) {
    const parent = session.parent_id;
    if (parent && parent !== session.id && ids.has(parent)) {
      const list = children.get(parent) ?? [];
      list.push(session);
      children.set(parent, list);
    } else {
      roots.push(session);
    }
  }
  const rows: TreeRow[] = [];
  const placed = new Set<string>();
  const visit = (session: SessionOut, depth: number) => {
    if (placed.has(session.id)) return;
    placed.add(session.id);
    rows.push({ session, depth, orphan: depth === 0 && isBranch(session) });
    for (const child of children.get(session.id) ?? []) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  // A loop of parents (never made by the server) has no root: show what is left at the top level.
  for (const session of items) visit(session, 0);
  return rows;
}
