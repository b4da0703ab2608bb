// The message box: Enter sends, Shift+Enter starts a new line; typing:start/stop are
// sent as the protocol asks (refresh every expires_in / 2, stop on send or after a pause).
import { useEffect, useRef, useState } from "react";
import type { ChatSession } from "../core/session";

interface Props {
  session: ChatSession | null;
  conversationId: string;
  onSend: (text: string) => void;
  onAttach?: (file: File) => void;
  isNote?: boolean;
  disabled?: boolean;
  placeholder?: string;
  label?: string;
}

const PAUSE_MS = 3000;
const MAX_LENGTH = 4000;

export function Composer({ session, conversationId, onSend, onAttach, isNote = false, disabled, placeholder, label }: Props) {
  const [text, setText] = useState("");
  const lastStart = useRef(0);
  const expiresIn = useRef(6);
  const pauseTimer = useRef<number | undefined>(undefined);
  const box = useRef<HTMLTextAreaElement>(null);

  const stop = () => {
    window.clearTimeout(pauseTimer.current);
    if (lastStart.current && session) {
      lastStart.current = 0;
      session.typing(conversationId, false, isNote).catch(() => {});
    }
  };

  useEffect(() => stop, [conversationId, isNote]);

  const onChange = (value: string) => {
    setText(value);
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

  const submit = () => {
    const value = text.trim();
    if (!value || disabled) return;
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
      <label className="visually-hidden" htmlFor={`composer-${conversationId}`}>
        {label ?? "Message"}
      </label>
      <textarea
        id={`composer-${conversationId}`}
        ref={box}
        rows={2}
        value={text}
        maxLength={MAX_LENGTH}
        placeholder={placeholder ?? "Type a message…"}
        title="Enter sends, Shift+Enter starts a new line"
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      {onAttach && !isNote && (
        <label className="attach" title="Attach a file (image, PDF or text)">
          <span className="visually-hidden">Attach a file</span>
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <path d="M16.5 6.5l-7.8 7.8a2 2 0 0 0 2.8 2.8l8-8a4 4 0 0 0-5.6-5.6l-8.2 8.2a6 6 0 0 0 8.5 8.5l6.3-6.3" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
          </svg>
          <input
            type="file"
            className="visually-hidden"
            accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain"
            disabled={disabled}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) onAttach(file);
              e.target.value = "";
            }}
          />
        </label>
      )}
      <button type="submit" disabled={disabled || !text.trim()}>
        {isNote ? "Add note" : "Send"}
      </button>
    </form>
  );
}
