// The message box: Enter sends, Shift+Enter starts a new line; typing:start/stop are
// sent as the protocol asks (refresh every expires_in / 2, stop on send or after a pause).
import { useEffect, useRef, useState } from "react";
import type { ChatSession } from "../core/session";
import { AttachButton } from "./common";

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
        <AttachButton onFile={onAttach} disabled={disabled} />
      )}
      <button type="submit" disabled={disabled || !text.trim()}>
        {isNote ? "Add note" : "Send"}
      </button>
    </form>
  );
}
