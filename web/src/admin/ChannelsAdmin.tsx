// Social channels (docs/channels.md): connect a WhatsApp number, a Facebook Page or an
// Instagram account; secrets are written once and never shown again.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { describeError, type Api } from "../lib/api";
import type { Group, Org } from "../lib/types";
import { ErrorNote, Field } from "../components/common";

interface Channel {
  id: string;
  platform: "whatsapp" | "messenger" | "instagram";
  platform_label: string;
  name: string;
  external_id: string;
  business_account_id: string | null;
  group_id: string | null;
  status: string;
  last_error: string | null;
  webhook_url: string;
}

const PLATFORMS = [
  ["whatsapp", "WhatsApp", "Phone number id"],
  ["messenger", "Messenger", "Page id"],
  ["instagram", "Instagram", "Instagram account id"],
] as const;

const EMPTY = { platform: "whatsapp", name: "", external_id: "", business_account_id: "", access_token: "", app_secret: "", verify_token: "", group_id: "" };

export function ChannelsAdmin({ api, org, groups }: { api: Api; org: Org; groups: Group[] }) {
  const [channels, setChannels] = useState<Channel[]>([]);
  const [draft, setDraft] = useState(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [tokens, setTokens] = useState<Record<string, string>>({});
  const [confirming, setConfirming] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setChannels(await api.get<Channel[]>(`/orgs/${org.id}/channels`));
    } catch (e) {
      setError(describeError(e));
    }
  }, [api, org.id]);

  useEffect(() => void load(), [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const body: Record<string, string> = { ...draft };
    if (!body.group_id) delete body.group_id;
    if (draft.platform !== "whatsapp" || !body.business_account_id) delete body.business_account_id;
    try {
      await api.post(`/orgs/${org.id}/channels`, body);
      setDraft(EMPTY);
      await load();
    } catch (err) {
      setError(describeError(err));
    }
  };

  const replaceToken = async (channel: Channel) => {
    setError(null);
    try {
      await api.patch(`/orgs/${org.id}/channels/${channel.id}`, { access_token: tokens[channel.id] ?? "" });
      setTokens({ ...tokens, [channel.id]: "" });
      await load();
    } catch (err) {
      setError(describeError(err));
    }
  };

  const disconnect = async (channel: Channel) => {
    setError(null);
    setConfirming(null);
    try {
      await api.request("DELETE", `/orgs/${org.id}/channels/${channel.id}`);
      await load();
    } catch (err) {
      setError(describeError(err));
    }
  };

  const label = PLATFORMS.find(([p]) => p === draft.platform)?.[2] ?? "Account id";
  return (
    <section className="stack">
      <h2>Social channels</h2>
      <p className="muted">WhatsApp, Messenger and Instagram conversations arrive in the inbox like any other. Give Meta the webhook URL and the verify token; tokens and secrets are stored encrypted and never shown again.</p>
      <ErrorNote error={error} onDismiss={() => setError(null)} />
      {channels.map((c) => (
        <div key={c.id} className="card stack" data-testid="channel-row">
          <h3>
            {c.platform_label}: {c.name} <span className={`status status-${c.status}`}>{c.status}</span>
          </h3>
          {c.last_error && <p className="error-text">{c.last_error}</p>}
          <p className="small">
            Webhook URL: <code>{c.webhook_url}</code>
          </p>
          <div className="grid2">
            <Field label="New access token" hint="Replaces the stored one; waiting replies are sent">
              <input type="password" autoComplete="off" value={tokens[c.id] ?? ""} onChange={(e) => setTokens({ ...tokens, [c.id]: e.target.value })} />
            </Field>
            <button type="button" className="secondary" disabled={!(tokens[c.id] ?? "").trim()} onClick={() => void replaceToken(c)}>
              Save token
            </button>
          </div>
          {confirming === c.id ? (
            <div className="stack" role="group" aria-label="Confirm disconnecting">
              <p className="error-text">
                Disconnect {c.platform_label}: {c.name}? Its token and secrets are destroyed and Meta's webhooks refused from now on; its conversations stay in the inbox, but replies can no longer reach the customers.
              </p>
              <div className="row">
                <button type="button" className="danger" onClick={() => void disconnect(c)}>
                  Disconnect for good
                </button>
                <button type="button" className="secondary" onClick={() => setConfirming(null)}>
                  Cancel
                </button>
              </div>
            </div>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirming(c.id)}>
              Disconnect
            </button>
          )}
        </div>
      ))}
      <form className="card stack" onSubmit={create}>
        <h3>Connect a channel</h3>
        <div className="grid2">
          <Field label="Platform">
            <select value={draft.platform} onChange={(e) => setDraft({ ...draft, platform: e.target.value })}>
              {PLATFORMS.map(([value, name]) => (
                <option key={value} value={value}>
                  {name}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Name">
            <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required maxLength={120} />
          </Field>
          <Field label={label}>
            <input value={draft.external_id} onChange={(e) => setDraft({ ...draft, external_id: e.target.value.trim() })} required pattern="[0-9]+" inputMode="numeric" />
          </Field>
          {draft.platform === "whatsapp" && (
            <Field label="WhatsApp Business account id">
              <input value={draft.business_account_id} onChange={(e) => setDraft({ ...draft, business_account_id: e.target.value.trim() })} required pattern="[0-9]+" inputMode="numeric" />
            </Field>
          )}
          <Field label="Access token">
            <input type="password" autoComplete="off" value={draft.access_token} onChange={(e) => setDraft({ ...draft, access_token: e.target.value.trim() })} required minLength={8} />
          </Field>
          <Field label="App secret">
            <input type="password" autoComplete="off" value={draft.app_secret} onChange={(e) => setDraft({ ...draft, app_secret: e.target.value.trim() })} required minLength={8} />
          </Field>
          <Field label="Verify token" hint="Any text of yours; give Meta the same">
            <input value={draft.verify_token} onChange={(e) => setDraft({ ...draft, verify_token: e.target.value.trim() })} required minLength={8} />
          </Field>
          <Field label="Group" hint="Empty: the AI router chooses">
            <select value={draft.group_id} onChange={(e) => setDraft({ ...draft, group_id: e.target.value })}>
              <option value="">—</option>
              {groups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <button type="submit" className="primary">
          Connect
        </button>
      </form>
    </section>
  );
}
