// The console's left column: the views with their live counts, filters, search, and the
// selected view's list (cursor pages). Leads select conversations for bulk actions.
import { useEffect, useRef, useState } from "react";
import { describeError, type Api } from "../lib/api";
import type { ChatSession } from "../core/session";
import type { Group, Member } from "../lib/types";
import { Badge, ErrorNote } from "../components/common";
import { shortWhen, waitingFor } from "../lib/format";
import { PRIORITIES, VIEWS, snippetParts, type Filters, type InboxConversation, type Label, type SearchAnswer, type ViewName } from "./inboxApi";
import { useInboxCounts, useInboxView } from "./useInbox";

interface Props {
  api: Api;
  chat: ChatSession | null;
  me: string;
  isLead: boolean;
  groups: Group[];
  members: Member[];
  labels: Label[];
  view: ViewName;
  onView: (view: ViewName) => void;
  openId: string | null;
  onOpen: (id: string) => void;
  /** A conversation with another organization opens in the Organizations tab. */
  onOpenB2B?: (id: string) => void;
  onClaim: (id: string) => void;
  searchBox: React.RefObject<HTMLInputElement | null>;
  onItems?: (ids: string[]) => void;
}

/** The local calendar day of an instant, as a date input shows it. */
function localDay(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

const VIEW_EMPTY: Record<ViewName, string> = {
  queue: "Nobody is waiting.",
  mine: "No open conversation assigned to you.",
  unassigned: "Nothing unassigned.",
  all: "No open conversation.",
  escalated: "Nothing escalated.",
  resolved: "No resolved conversation yet.",
};

export function InboxSidebar({ api, chat, me, isLead, groups, members, labels, view, onView, openId, onOpen, onOpenB2B, onClaim, searchBox, onItems }: Props) {
  const [filters, setFilters] = useState<Filters>({});
  const [showFilters, setShowFilters] = useState(false);
  const list = useInboxView(api, chat, view, filters);
  const counts = useInboxCounts(api, chat, me);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<SearchAnswer | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);

  useEffect(() => setSelected(new Set()), [view]);
  useEffect(() => {
    onItems?.(list.items.map((c) => c.id));
  }, [list.items, onItems]);

  const search = async (more = false) => {
    const q = query.trim();
    if (!q) return setResults(null);
    setSearchError(null);
    try {
      const cursor = more && results?.next_cursor ? `&cursor=${results.next_cursor}` : "";
      const answer = await api.get<SearchAnswer>(`/inbox/search?q=${encodeURIComponent(q)}&limit=20${cursor}`);
      setResults(more && results ? { ...answer, conversations: results.conversations, messages: [...results.messages, ...answer.messages] } : answer);
    } catch (e) {
      setSearchError(describeError(e));
    }
  };

  const setFilter = (name: keyof Filters, value: string) => setFilters((f) => ({ ...f, [name]: value || undefined }));
  const visibleViews = VIEWS.filter((v) => !v.leadsOnly || isLead);

  return (
    <aside className="sidebar inbox-sidebar" aria-label="Inbox">
      <form
        className="inbox-search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <label className="visually-hidden" htmlFor="inbox-search">
          Search conversations
        </label>
        <input id="inbox-search" ref={searchBox} type="search" placeholder="Search conversations (/); word* for a prefix" value={query} onChange={(e) => { setQuery(e.target.value); if (!e.target.value) setResults(null); }} />
      </form>
      {results ? (
        <SearchResults results={results} error={searchError} onOpen={onOpen} onMore={() => void search(true)} onClose={() => { setResults(null); setQuery(""); }} />
      ) : (
        <>
          <nav className="views" aria-label="Views">
            {visibleViews.map((v) => (
              <button key={v.name} type="button" className={`view ${view === v.name ? "active" : ""}`} aria-current={view === v.name ? "page" : undefined} onClick={() => onView(v.name)} data-view={v.name}>
                <span>{v.label}</span>
                {v.name !== "resolved" && <span className="count" data-testid={`count-${v.name}`}>{counts[v.name] ?? ""}</span>}
              </button>
            ))}
          </nav>
          <button type="button" className="link small" aria-expanded={showFilters} onClick={() => setShowFilters((s) => !s)}>
            {showFilters ? "Hide filters" : "Filters"}
            {Object.values(filters).some(Boolean) && " (on)"}
          </button>
          {showFilters && (
            <div className="filters">
              <label>
                Group
                <select value={filters.group_id ?? ""} onChange={(e) => setFilter("group_id", e.target.value)}>
                  <option value="">Any</option>
                  {groups.map((g) => (
                    <option key={g.id} value={g.id}>
                      {g.name}
                    </option>
                  ))}
                </select>
              </label>
              {view !== "mine" && (
                <label>
                  Assignee
                  <select value={filters.assignee_id ?? ""} onChange={(e) => setFilter("assignee_id", e.target.value)}>
                    <option value="">Anyone</option>
                    {members.map((m) => (
                      <option key={m.user_id} value={m.user_id}>
                        {m.display_name}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              <label>
                Label
                <select value={filters.label ?? ""} onChange={(e) => setFilter("label", e.target.value)}>
                  <option value="">Any</option>
                  {labels.map((l) => (
                    <option key={l.name} value={l.name}>
                      {l.name}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Priority
                <select value={filters.priority ?? ""} onChange={(e) => setFilter("priority", e.target.value)}>
                  <option value="">Any</option>
                  {PRIORITIES.map((p) => (
                    <option key={p} value={p}>
                      {p}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Kind
                <select value={filters.kind ?? ""} onChange={(e) => setFilter("kind", e.target.value)}>
                  <option value="">Any</option>
                  <option value="support">Support</option>
                  <option value="outreach">Outreach</option>
                  <option value="b2b">With organizations</option>
                </select>
              </label>
              <label>
                Channel
                <select value={filters.channel ?? ""} onChange={(e) => setFilter("channel", e.target.value)}>
                  <option value="">Any</option>
                  <option value="widget">Website widget</option>
                  <option value="web">Raasel app</option>
                </select>
              </label>
              <label>
                Opened from
                <input type="date" value={filters.since ? localDay(filters.since) : ""} onChange={(e) => setFilter("since", e.target.value ? new Date(`${e.target.value}T00:00:00`).toISOString() : "")} />
              </label>
              <label>
                Opened until
                <input type="date" value={filters.until ? localDay(new Date(new Date(filters.until).getTime() - 86400_000).toISOString()) : ""} onChange={(e) => setFilter("until", e.target.value ? new Date(new Date(`${e.target.value}T00:00:00`).getTime() + 86400_000).toISOString() : "")} />
              </label>
              {view === "resolved" && (
                <label>
                  Status
                  <select value={filters.status ?? ""} onChange={(e) => setFilter("status", e.target.value)}>
                    <option value="">Resolved or closed</option>
                    <option value="resolved">Resolved</option>
                    <option value="closed">Closed</option>
                  </select>
                </label>
              )}
            </div>
          )}
          {isLead && selected.size > 0 && (
            <BulkBar api={api} ids={[...selected]} members={members} labels={labels} onDone={() => { setSelected(new Set()); list.refresh(); }} />
          )}
          <ErrorNote error={list.error} />
          <ul className="conversation-list" aria-label={view === "mine" ? "My conversations" : VIEWS.find((v) => v.name === view)?.label}>
            {list.loaded && list.items.length === 0 && <li className="empty">{VIEW_EMPTY[view]}</li>}
            {list.items.map((c) => (
              <Item
                key={c.id}
                c={c}
                view={view}
                isOpen={c.id === openId}
                groupName={groups.find((g) => g.id === c.group_id)?.name}
                isSelectable={isLead}
                isSelected={selected.has(c.id)}
                onSelect={(on) => setSelected((s) => { const next = new Set(s); if (on) next.add(c.id); else next.delete(c.id); return next; })}
                onOpen={() => (c.kind === "b2b" && onOpenB2B ? onOpenB2B(c.id) : onOpen(c.id))}
                onClaim={() => onClaim(c.id)}
              />
            ))}
          </ul>
          {list.hasMore && (
            <button type="button" className="secondary small-button" onClick={list.loadMore}>
              Load more
            </button>
          )}
        </>
      )}
    </aside>
  );
}

function Item({ c, view, isOpen, groupName, isSelectable, isSelected, onSelect, onOpen, onClaim }: { c: InboxConversation; view: ViewName; isOpen: boolean; groupName?: string; isSelectable: boolean; isSelected: boolean; onSelect: (on: boolean) => void; onOpen: () => void; onClaim: () => void }) {
  const waiting = c.status === "queued";
  // A b2b conversation is named by the other organization (docs/protocol.md).
  const name = c.b2b?.other_org?.name ?? c.customer?.name ?? "Customer";
  return (
    <li className={`${waiting ? "queue-item" : "list-item"} ${c.is_escalated ? "escalated" : ""}`} data-conversation-id={c.id}>
      {isSelectable && <input type="checkbox" aria-label={`Select conversation with ${name}`} checked={isSelected} onChange={(e) => onSelect(e.target.checked)} />}
      <button type="button" className={`conversation-item ${isOpen ? "active" : ""}`} onClick={onOpen} aria-current={isOpen ? "true" : undefined} data-conversation-id={c.id}>
        <span className="row">
          <strong className="title">
            {c.is_escalated && <span className="flag" title="Escalated">⚑ </span>}
            {name}
          </strong>
          <span className="when">{waiting ? `waiting ${waitingFor(c.queued_at ?? c.created_at)}` : shortWhen(c.last_message?.at ?? c.updated_at)}</span>
        </span>
        <span className="row">
          <span className="preview">{c.last_message?.preview ?? c.subject ?? ""}</span>
          {view === "mine" ? <Badge count={c.unread} /> : <span className="group-name">{groupName}</span>}
        </span>
        {(c.priority && c.priority !== "normal") || (c.tags && c.tags.length > 0) || (view !== "mine" && c.assignee) ? (
          <span className="row chips">
            {c.priority && c.priority !== "normal" && <span className={`priority priority-${c.priority}`}>{c.priority}</span>}
            {c.tags?.map((t) => (
              <span key={t} className="label-chip">
                {t}
              </span>
            ))}
            {view !== "mine" && c.assignee && <span className="muted small">{c.assignee.name}</span>}
          </span>
        ) : null}
      </button>
      {/* The peer's side of a b2b conversation is taken by replying (no claim). */}
      {waiting && c.b2b?.side !== "peer" && (
        <button type="button" className="primary small-button" onClick={onClaim} aria-label={`Claim conversation with ${name}`}>
          Claim
        </button>
      )}
    </li>
  );
}

function SearchResults({ results, error, onOpen, onMore, onClose }: { results: SearchAnswer; error: string | null; onOpen: (id: string) => void; onMore: () => void; onClose: () => void }) {
  const empty = results.conversations.length === 0 && results.messages.length === 0;
  return (
    <section className="search-results" aria-label="Search results">
      <div className="row">
        <h2 className="section-title">Results for “{results.query}”</h2>
        <button type="button" className="link small" onClick={onClose}>
          Clear
        </button>
      </div>
      <ErrorNote error={error} />
      {empty && <p className="empty">No conversation matches.</p>}
      <ul className="conversation-list">
        {results.conversations.map(({ conversation: c }) => (
          <li key={`c${c.id}`}>
            <button type="button" className="conversation-item" onClick={() => onOpen(c.id)}>
              <span className="row">
                <strong className="title">{c.customer.name ?? "Customer"}</strong>
                <span className="when">{c.status}</span>
              </span>
              <span className="preview">{c.subject}</span>
            </button>
          </li>
        ))}
        {results.messages.map((m) => (
          <li key={`m${m.conversation.id}-${m.position}`} className="search-hit">
            <button type="button" className="conversation-item" onClick={() => onOpen(m.conversation.id)}>
              <span className="row">
                <strong className="title">{m.conversation.customer.name ?? "Customer"}</strong>
                <span className="when">{m.kind === "note" ? "note" : m.conversation.status}</span>
              </span>
              <span className="snippet">
                {snippetParts(m.snippet, results.marks).map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {results.next_cursor && (
        <button type="button" className="secondary small-button" onClick={onMore}>
          More results
        </button>
      )}
    </section>
  );
}

function BulkBar({ api, ids, members, labels, onDone }: { api: Api; ids: string[]; members: Member[]; labels: Label[]; onDone: () => void }) {
  const [agent, setAgent] = useState("");
  const [label, setLabel] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const busy = useRef(false);

  const run = async (action: string, extra: object = {}) => {
    if (busy.current) return;
    busy.current = true;
    setNote(null);
    try {
      const answer = await api.post<{ results: { ok: boolean; error?: { message: string } }[] }>("/inbox/bulk", { conversation_ids: ids, action, ...extra });
      const failed = answer.results.filter((r) => !r.ok);
      setNote(failed.length ? `${answer.results.length - failed.length} done; ${failed.length} could not be changed: ${failed[0].error?.message ?? ""}` : `${answer.results.length} done`);
      onDone();
    } catch (e) {
      setNote(describeError(e));
    } finally {
      busy.current = false;
    }
  };

  return (
    <div className="bulk-bar" role="group" aria-label="Bulk actions">
      <strong>{ids.length} selected</strong>
      <select aria-label="Assign selected to" value={agent} onChange={(e) => setAgent(e.target.value)}>
        <option value="">Assign to…</option>
        {members.filter((m) => m.is_active).map((m) => (
          <option key={m.user_id} value={m.user_id}>
            {m.display_name} ({m.availability})
          </option>
        ))}
      </select>
      <button type="button" className="secondary small-button" disabled={!agent} onClick={() => void run("assign", { agent_id: agent })}>
        Assign
      </button>
      <select aria-label="Label selected" value={label} onChange={(e) => setLabel(e.target.value)}>
        <option value="">Label…</option>
        {labels.map((l) => (
          <option key={l.name} value={l.name}>
            {l.name}
          </option>
        ))}
      </select>
      <button type="button" className="secondary small-button" disabled={!label} onClick={() => void run("label", { add: [label] })}>
        Add label
      </button>
      <button type="button" className="secondary small-button" onClick={() => void run("resolve")}>
        Resolve all
      </button>
      <button type="button" className="secondary small-button" onClick={() => void run("close")}>
        Close all
      </button>
      {note && <span className="muted small" role="status">{note}</span>}
    </div>
  );
}
