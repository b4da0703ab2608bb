// Canned responses in the composer: `/shortcut` picks one, and its variables are filled
// from the conversation: {{customer.name}}, {{customer.email}}, {{agent.name}},
// {{conversation.subject}}, {{org.name}}, each with an optional fallback after a bar:
// {{customer.name | there}}. Unknown variables and empty values take the fallback (or
// nothing). Plain text in, plain text out: nothing here is ever HTML.
import type { Canned } from "./inboxApi";

export type Variables = Record<string, string | null | undefined>;

const VARIABLE = /\{\{\s*([a-z]+(?:\.[a-z_]+)?)\s*(?:\|\s*([^}]*?))?\s*\}\}/g;

export function fillVariables(body: string, vars: Variables): string {
  return body.replace(VARIABLE, (_all, name: string, fallback: string | undefined) => {
    const value = vars[name];
    return value && value.trim() ? value : (fallback ?? "");
  });
}

/** The `/word` being typed at the end of the text, if the text is only that. */
export function shortcutQuery(text: string): string | null {
  const match = /^\/([a-z0-9_-]*)$/.exec(text);
  return match ? match[1] : null;
}

export function matchCanned(all: Canned[], query: string): Canned[] {
  const q = query.toLowerCase();
  return all.filter((c) => c.shortcut.startsWith(q) || c.title.toLowerCase().includes(q)).slice(0, 8);
}

/** The `@name` being typed at the caret, if any. */
export function mentionQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([\p{L}\p{N} ._-]{0,30})$/u.exec(before);
  if (!match) return null;
  return { start: before.length - match[2].length - 1, query: match[2] };
}
