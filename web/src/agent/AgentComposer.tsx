// The agent's message box: the shared composer's behaviour (Enter sends, Shift+Enter a
// new line, typing signals) plus `/shortcut` canned responses with their variables
// filled, and `@name` mentions of teammates in internal notes.
import { useEffect, useRef, useState } from "react";
import { AttachButton } from "../components/common";
import type { ChatSession } from "../core/session";
import type { Member } from "../lib/types";
import { fillVariables, matchCanned, mentionQuery, shortcutQuery, type Variables } from "./canned";
import type { Canned } from "./inboxApi";

interface Props {
  session: ChatSession | null;
  conversationId: string;
  onSend: (text: string) => void;
  onAttach?: (file: File) => void;
  isNote: boolean;
  canned: Canned[];
  variables: Variables;
  members: Member[];
  me: string;
  boxRef?: React.RefObject<HTMLTextAreaElement | null>;
}

const PAUSE_MS = 3000;
const MAX_LENGTH = 4000;

type Suggestion = { key: string; label: string; detail: string; apply: () => void };

export function AgentComposer({ session, conversationId, onSend, onAttach, isNote, canned, variables, members, me, boxRef }: Props) {
  const [text, setText] = useState("");
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const lastStart = useRef(0);
  const expiresIn = useRef(6);
  const pauseTimer = useRef<number | undefined>(undefined);
  const own = useRef<HTMLTextAreaElement>(null);
  const box = boxRef ?? own;

  const stop = () => {
    window.clearTimeout(pauseTimer.current);
    if (lastStart.current && session) {
      lastStart.current = 0;
      session.typing(conversationId, false, isNote).catch(() => {});
    }
  };

  useEffect(() => stop, [conversationId, isNote]);

  const onChange = (value: string, at: number) => {
    setText(value);
    setCaret(at);
    setActive(0);
    if (!session || !value) return stop();
    const now = Date.now();
    if (now - lastStart.current > (expiresIn.current * 1000) / 2) {
      lastStart.current = now;
      session
        .typing(conversationId, true, isNote)
        .then((seconds) => (expiresIn.current = seconds || 6))
        .catch(() => {});
    }
    window.clearTimeout(pauseTimer.current);
    pauseTimer.current = window.setTimeout(stop, PAUSE_MS);
  };

  const put = (value: string, at = value.length) => {
    setText(value);
    setCaret(at);
    window.requestAnimationFrame(() => {
      box.current?.focus();
      box.current?.setSelectionRange(at, at);
    });
  };

  const suggestions: Suggestion[] = [];
  const shortcut = shortcutQuery(text);
  if (shortcut !== null) {
    for (const c of matchCanned(canned, shortcut)) {
      suggestions.push({ key: c.id, label: `/${c.shortcut}`, detail: c.title, apply: () => put(fillVariables(c.body, variables)) });
    }
  }
  const mention = isNote ? mentionQuery(text, caret) : null;
  if (mention) {
    const q = mention.query.toLowerCase();
    for (const m of members.filter((x) => x.is_active && x.user_id !== me && x.display_name.toLowerCase().startsWith(q)).slice(0, 6)) {
      suggestions.push({
        key: m.user_id,
        label: `@${m.display_name}`,
        detail: m.role,
        apply: () => {
          const inserted = `${text.slice(0, mention.start)}@${m.display_name} `;
          put(inserted + text.slice(caret), inserted.length);
        },
      });
    }
  }

  const submit = () => {
    const value = text.trim();
    if (!value) return;
    stop();
    onSend(value);
    setText("");
    box.current?.focus();
  };

  return (
    <form
      className={`composer ${isNote ? "composer-note" : ""}`}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {suggestions.length > 0 && (
        <ul className="suggestions" role="listbox" aria-label={shortcut !== null ? "Canned responses" : "Mention a teammate"}>
          {suggestions.map((s, i) => (
            <li key={s.key} role="option" aria-selected={i === active}>
              <button type="button" className={i === active ? "active" : ""} onMouseDown={(e) => e.preventDefault()} onClick={s.apply}>
                <strong>{s.label}</strong> <span className="muted">{s.detail}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <label className="visually-hidden" htmlFor={`composer-${conversationId}`}>
        {isNote ? "Internal note" : "Reply"}
      </label>
      <textarea
        id={`composer-${conversationId}`}
        ref={box}
        rows={2}
        value={text}
        maxLength={MAX_LENGTH}
        placeholder={isNote ? "Internal note, only your team sees it (@ mentions a teammate)" : "Type a reply, or / for a canned response…"}
        title="Enter sends, Shift+Enter starts a new line, / inserts a canned response"
        onChange={(e) => onChange(e.target.value, e.target.selectionStart ?? e.target.value.length)}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
        onKeyDown={(e) => {
          if (suggestions.length > 0) {
            if (e.key === "ArrowDown" || e.key === "ArrowUp") {
              e.preventDefault();
              setActive((a) => (a + (e.key === "ArrowDown" ? 1 : suggestions.length - 1)) % suggestions.length);
              return;
            }
            if (e.key === "Enter" || e.key === "Tab") {
              e.preventDefault();
              suggestions[Math.min(active, suggestions.length - 1)].apply();
              return;
            }
            if (e.key === "Escape") {
              e.preventDefault();
              put(text + " ");
              return;
            }
          }
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      {onAttach && !isNote && (
        <AttachButton onFile={onAttach} />
      )}
      <button type="submit" disabled={!text.trim()}>
        {isNote ? "Add note" : "Send"}
      </button>
    </form>
  );
}
