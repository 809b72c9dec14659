import { MENU_KEYS, type IvrMenu, type KeyAction, type MenuKey } from '@carillon/domain';

/**
 * The visual IVR editor's drawing (IVR-21): the menu tree laid out automatically, the top menus in the
 * first column and each submenu a column further right, a key's other targets (an extension, a
 * voicemail, the directory, an outside number) as leaf nodes beside their menu. A menu is drawn once,
 * where the walk from the top menus first meets it; a key to a menu met before (a way back up, a loop)
 * is an edge to that node. Menus no top menu reaches are drawn after, as roots of their own, so nothing
 * the admin added is hidden. Pure: positions the admin moved a node to are applied by the page.
 */
export const MENU_W = 230;
export const LEAF_W = 190;
export const LEAF_H = 40;
export const HEADER_H = 46;
export const ROW_H = 22;
export const ISSUE_H = 18;
const COLUMN = 320;
const GAP = 24;
const MARGIN = 16;

export interface CanvasNode {
  /** `m:<menu number>` or `l:<menu number>:<key>`. */
  id: string;
  kind: 'menu' | 'leaf';
  /** The menu drawn, or the menu whose key leads to the leaf. */
  menu: string;
  key: MenuKey | null;
  action: KeyAction | null;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface CanvasEdge {
  from: string;
  key: MenuKey;
  /** The node it leads to. */
  to: string;
}

export const menuNodeId = (number: string) => `m:${number}`;
export const leafNodeId = (menu: string, key: string) => `l:${menu}:${key}`;

/** The keys a menu maps, in keypad order. */
export function mappedKeys(menu: IvrMenu): MenuKey[] {
  return MENU_KEYS.filter((k) => menu.keys[k] !== undefined);
}

/** A menu node's height: its header, a row per mapped key and one for the "new key" port, a line per problem. */
export function menuHeight(menu: IvrMenu, problems: number): number {
  return HEADER_H + ROW_H * (mappedKeys(menu).length + 1) + ISSUE_H * problems;
}

/** The y of a key's port (row `index`; the "new key" port is the row after the mapped keys), from the node's top. */
export const portY = (index: number) => HEADER_H + ROW_H * index + ROW_H / 2;

export function layoutCanvas(menus: readonly IvrMenu[], tops: readonly (string | null)[], problemsOf: (menu: string) => number): { nodes: CanvasNode[]; edges: CanvasEdge[] } {
  const byNumber = new Map(menus.map((m) => [m.number, m]));
  const nodes: CanvasNode[] = [];
  const edges: CanvasEdge[] = [];
  const placed = new Set<string>();
  let cursor = MARGIN;

  const place = (menu: IvrMenu, depth: number) => {
    placed.add(menu.number);
    const top = cursor;
    const h = menuHeight(menu, problemsOf(menu.number));
    nodes.push({ id: menuNodeId(menu.number), kind: 'menu', menu: menu.number, key: null, action: null, x: MARGIN + depth * COLUMN, y: top, w: MENU_W, h });
    for (const key of mappedKeys(menu)) {
      const action = menu.keys[key]!;
      const sub = action.type === 'connect' ? byNumber.get(action.extension) : undefined;
      if (sub) {
        edges.push({ from: menu.number, key, to: menuNodeId(sub.number) });
        if (!placed.has(sub.number)) place(sub, depth + 1);
        continue;
      }
      const id = leafNodeId(menu.number, key);
      nodes.push({ id, kind: 'leaf', menu: menu.number, key, action, x: MARGIN + (depth + 1) * COLUMN, y: cursor, w: LEAF_W, h: LEAF_H });
      edges.push({ from: menu.number, key, to: id });
      cursor += LEAF_H + GAP;
    }
    cursor = Math.max(cursor, top + h + GAP);
  };

  const roots = [...tops.filter((n): n is string => n !== null && byNumber.has(n)), ...menus.map((m) => m.number)];
  for (const n of roots) if (!placed.has(n)) place(byNumber.get(n)!, 0);
  return { nodes, edges };
}
