// Messages grouped by day; own messages on the right with their check marks; internal
// notes (agents only) styled apart. Text is always rendered as text, never as HTML.
import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { dayKey, dayLabel, timeLabel } from "../lib/format";
import { tickFor } from "../core/ticks";
import type { Receipts, ShownMessage, Side } from "../lib/types";
import { Ticks } from "./Ticks";

interface Props {
  messages: ShownMessage[];
  mySide: Side;
  myUserId: string | null;
  receipts: Receipts | undefined;
  hasMore: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  senderName: (message: ShownMessage) => string | null;
  loadAttachment?: (id: string) => Promise<Blob>;
  /** How a message's text is shown (the console makes safe links); plain text by default. */
  renderText?: (text: string) => ReactNode;
  /** What an internal note says of its audience (a b2b conversation: the other organization). */
  noteLabel?: string;
}

export function MessageList({ messages, mySide, myUserId, receipts, hasMore, loadingOlder, onLoadOlder, senderName, loadAttachment, renderText, noteLabel = "Internal note · not visible to the customer" }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  // Where this list last scrolled itself: a scroll event that finds the view there was
  // ours (or content grew under it), not the reader moving.
  const ownTop = useRef<number | null>(null);
  const previous = useRef({ first: "", height: 0, count: 0 });

  const scrollTo = useCallback((top: number) => {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = top;
    ownTop.current = el.scrollTop; // as the browser clamped it
  }, []);

  // A conversation opens at its newest message, also while its images load (issue 12,
  // item 5): content that grows below a reader at the bottom keeps them there.
  const keepAtBottom = useCallback(() => {
    const el = scroller.current;
    if (el && stickToBottom.current) scrollTo(el.scrollHeight);
  }, [scrollTo]);

  // Anything that grows after it is shown (an image, a late font) keeps the reader there.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => keepAtBottom());
    for (const child of Array.from(el.children)) observer.observe(child);
    return () => observer.disconnect();
  }, [messages, keepAtBottom]);

  // Keep the view still while messages stream in: stay at the bottom if the reader was
  // there, and keep the same message in view when an older page is prepended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = messages[0]?.id ?? "";
    const prev = previous.current;
    if (prev.count && first !== prev.first && messages.length > prev.count && !stickToBottom.current) {
      scrollTo(el.scrollTop + el.scrollHeight - prev.height);
    } else if (stickToBottom.current) {
      scrollTo(el.scrollHeight);
    }
    previous.current = { first, height: el.scrollHeight, count: messages.length };
  }, [messages, scrollTo]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    // Only the reader leaves the bottom: at the place this list scrolled to, the event
    // was its own, even if an image grew below meanwhile.
    if (el.scrollTop !== ownTop.current) {
      ownTop.current = null;
      stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    }
    if (el.scrollTop < 60 && hasMore && !loadingOlder) onLoadOlder();
  };

  useEffect(() => {
    // A short first page may not fill the view: fetch more until it scrolls.
    const el = scroller.current;
    if (el && hasMore && !loadingOlder && el.scrollHeight <= el.clientHeight) onLoadOlder();
  }, [hasMore, loadingOlder, onLoadOlder, messages.length]);

  let lastDay = "";
  return (
    <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-live="polite" aria-label="Messages" tabIndex={0}>
      {hasMore && (
        <button type="button" className="link load-older" onClick={onLoadOlder} disabled={loadingOlder}>
          {loadingOlder ? "Loading…" : "Load earlier messages"}
        </button>
      )}
      {messages.map((message) => {
        const day = dayKey(message.created_at);
        const header = day !== lastDay ? (lastDay = day) : null;
        const isMine = message.sender_side === mySide && (mySide === "customer" || message.sender_id === myUserId);
        const isOurSide = message.sender_side === mySide;
        const key = message.pending ? `p:${message.client_id}` : message.id;
        return (
          <Fragment key={key}>
            {header && (
              <div className="day" role="separator">
                <span>{dayLabel(message.created_at)}</span>
              </div>
            )}
            {message.kind === "system" ? (
              <div className="system" data-kind="system">
                {message.text}
              </div>
            ) : (
              <div
                className={`bubble ${isOurSide ? "out" : "in"} ${message.kind === "note" ? "note" : ""}`}
                data-kind={message.kind}
                data-message-id={message.id || undefined}
              >
                {message.kind === "note" && <div className="note-label">{noteLabel}</div>}
                {!isMine && <div className="sender">{senderName(message)}</div>}
                <div className="text">{renderText && message.text ? renderText(message.text) : message.text}</div>
                {message.attachment_id && loadAttachment && (
                  <Attachment id={message.attachment_id} name={message.text} load={loadAttachment} onSized={keepAtBottom} />
                )}
                <div className="meta">
                  <time dateTime={message.created_at}>{timeLabel(message.created_at)}</time>
                  {isMine && message.kind !== "note" && <Ticks tick={tickFor(message, mySide, receipts)} />}
                </div>
              </div>
            )}
          </Fragment>
        );
      })}
    </div>
  );
}

/** Attachments need the bearer token: fetch the bytes, then show an image or a link. */
export function Attachment({ id, name, load, onSized }: { id: string; name: string | null; load: (id: string) => Promise<Blob>; onSized: () => void }) {
  const [file, setFile] = useState<{ url: string; isImage: boolean } | null>(null);
  const [failed, setFailed] = useState(false);
  useLayoutEffect(onSized, [file, failed, onSized]);
  useEffect(() => {
    let url = "";
    let cancelled = false;
    load(id).then(
      (blob) => {
        if (cancelled) return;
        url = URL.createObjectURL(blob);
        setFile({ url, isImage: blob.type.startsWith("image/") });
      },
      () => !cancelled && setFailed(true),
    );
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [id, load]);
  if (failed) return <div className="muted small">Attachment unavailable</div>;
  if (!file) return <div className="attachment-placeholder muted small">Loading attachment…</div>;
  return file.isImage ? (
    <a href={file.url} target="_blank" rel="noreferrer" className="attachment">
      <img src={file.url} alt={name ?? "Attached image"} onLoad={onSized} />
    </a>
  ) : (
    <a href={file.url} download={name ?? "attachment"} className="attachment">
      Download {name ?? "attachment"}
    </a>
  );
}
