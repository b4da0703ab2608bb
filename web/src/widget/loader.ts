// /widget.js: <script src="https://HOST/widget.js" data-org="acme" async></script>
// Draws one iframe (HOST/widget.html) in the corner of the page and resizes it when the
// chat opens or closes. The chat, its tokens and its socket live inside the frame, on
// Raasel's origin: the host page cannot read them, and Raasel needs no CORS for it. Which
// sites may embed an organization's frame is the organization's setting (embed_origins).
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script?.src) return;
  const origin = new URL(script.src).origin;
  const org = script.dataset.org ?? "";
  const group = script.dataset.group ?? "";
  const prechat = script.dataset.prechat ?? "";
  const side = script.dataset.position === "left" ? "left" : "right";
  const frame = document.createElement("iframe");
  // The host keeps one thing for the frame: whether the chat was open (never a token).
  const openKey = `raasel-widget-open:${org}`;
  const remembered = (() => {
    try {
      return localStorage.getItem(openKey) ?? "";
    } catch {
      return "";
    }
  })();
  const query = new URLSearchParams({ org, host: location.origin, open: remembered });
  if (group) query.set("group", group);
  if (prechat) query.set("prechat", prechat);
  frame.src = `${origin}/widget.html?${query}`;
  frame.title = "Chat with us";
  frame.setAttribute("data-raasel-widget", org);
  const closed = "width:84px;height:84px;";
  const open = "width:min(380px,calc(100vw - 16px));height:min(600px,calc(100vh - 16px));";
  const base = `position:fixed;bottom:8px;${side}:8px;border:0;background:transparent;z-index:2147483000;color-scheme:normal;`;
  frame.style.cssText = base + closed;
  // The frame keeps the chat (and its tokens) to itself; it only says whether it is open.
  window.addEventListener("message", (event) => {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    const data = event.data as { type?: string; open?: boolean; gone?: boolean } | null;
    if (data?.type !== "raasel:widget") return;
    // An unknown organization: the frame shows nothing, and takes no room or clicks.
    frame.style.cssText = base + (data.gone ? "display:none;" : data.open ? open : closed);
    try {
      localStorage.setItem(openKey, data.open ? "1" : "0");
    } catch {
      // No storage here either: the chat opens closed after a reload.
    }
  });
  const mount = () => document.body.appendChild(frame);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
