import { useCallback, useEffect, useState } from "react";
import { ApiError, describeError, type Api } from "../lib/api";

/** What the server says of a conversation that came from a social channel
 * (GET /conversations/{id}/channel, docs/protocol.md "Social channels"). */
interface ChannelInfo {
  channel: { id: string; platform: string; platform_label: string; name: string; status: string; last_error: string | null };
  contact_id: string;
  window: { state: "open" | "human_agent" | "template_only" | "closed"; closes_at: string | null; allows_free_text: boolean };
  failures: { position: number; error: string | null }[];
  replies: { position: number; replies_to: number }[];
  /** The platform's own time of each customer message (the message's time is the server's). */
  provider_times: { position: number; provider_sent_at: string }[];
}

interface Template {
  name: string;
  language: string;
  category: string | null;
  body: string;
  parameters: number;
}

const WINDOW_TEXT: Record<ChannelInfo["window"]["state"], string> = {
  open: "Replies are open",
  human_agent: "More than 24 hours since the customer wrote: replies go tagged as a human agent's (for 7 days)",
  template_only: "More than 24 hours since the customer wrote: WhatsApp only accepts an approved template now",
  closed: "More than 7 days since the customer wrote: no reply can reach them until they write again",
};

/** The channel a conversation came from, its 24-hour window, failed sends, and (WhatsApp,
 * outside the window) the approved templates to send instead. Nothing for other conversations. */
export function ChannelBar({ api, conversationId, version }: { api: Api; conversationId: string; version: number }) {
  const [info, setInfo] = useState<ChannelInfo | null>(null);
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [chosen, setChosen] = useState("");
  const [params, setParams] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setInfo(await api.get<ChannelInfo>(`/conversations/${conversationId}/channel`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setInfo(null);
      else setError(describeError(e));
    }
  }, [api, conversationId]);

  useEffect(() => {
    setTemplates(null);
    setChosen("");
    void load();
  }, [load, version]);

  if (!info) return null;
  const template = templates?.find((t) => `${t.name}|${t.language}` === chosen);

  const showTemplates = async () => {
    setError(null);
    try {
      setTemplates(await api.get<Template[]>(`/conversations/${conversationId}/channel/templates`));
    } catch (e) {
      setError(describeError(e));
    }
  };

  const send = async () => {
    if (!template) return;
    setError(null);
    try {
      await api.post(`/conversations/${conversationId}/channel/templates`, {
        client_id: `tpl-${Date.now()}`,
        name: template.name,
        language: template.language,
        parameters: params.slice(0, template.parameters),
      });
      setChosen("");
      setParams([]);
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <div className={`channel-bar channel-${info.channel.platform}`} data-testid="channel-bar">
      <p>
        <span className="channel-badge">{info.channel.platform_label}</span> {info.channel.name}
        {info.channel.status !== "active" && <strong className="flag"> · {info.channel.last_error ?? info.channel.status}</strong>}
      </p>
      <p className={info.window.allows_free_text ? "muted small" : "window-closed"} role={info.window.allows_free_text ? undefined : "status"}>
        {WINDOW_TEXT[info.window.state]}
        {info.window.closes_at && info.window.state === "open" && ` until ${new Date(info.window.closes_at).toLocaleString()}`}
      </p>
      {info.provider_times.length > 0 && (
        <p className="muted small" data-testid="provider-time">
          The customer's last message was sent on {info.channel.platform_label} at{" "}
          {new Date(info.provider_times[info.provider_times.length - 1].provider_sent_at).toLocaleString()}
        </p>
      )}
      {info.channel.status === "deleted" && (
        <p className="window-closed" role="status">
          This channel was disconnected: replies can no longer reach the customer.
        </p>
      )}
      {info.failures.length > 0 && (
        <ul className="channel-failures" aria-label="Messages not delivered">
          {info.failures.map((f) => (
            <li key={f.position}>
              Message #{f.position} was not delivered: {f.error}
            </li>
          ))}
        </ul>
      )}
      {info.channel.platform === "whatsapp" && info.window.state === "template_only" && info.channel.status !== "deleted" && (
        <div className="templates">
          {templates === null ? (
            <button type="button" className="secondary small-button" onClick={() => void showTemplates()}>
              Choose a template
            </button>
          ) : (
            <>
              <label htmlFor="template-choice">Template</label>
              <select id="template-choice" value={chosen} onChange={(e) => setChosen(e.target.value)}>
                <option value="">Choose…</option>
                {templates.map((t) => (
                  <option key={`${t.name}|${t.language}`} value={`${t.name}|${t.language}`}>
                    {t.name} ({t.language})
                  </option>
                ))}
              </select>
              {template && (
                <>
                  <p className="muted small">{template.body}</p>
                  {Array.from({ length: template.parameters }, (_, i) => (
                    <input
                      key={i}
                      aria-label={`Parameter ${i + 1}`}
                      value={params[i] ?? ""}
                      onChange={(e) => setParams((p) => Object.assign([...p], { [i]: e.target.value }))}
                    />
                  ))}
                  <button type="button" className="primary small-button" onClick={() => void send()}>
                    Send template
                  </button>
                </>
              )}
            </>
          )}
        </div>
      )}
      {error && <p className="error small">{error}</p>}
    </div>
  );
}
