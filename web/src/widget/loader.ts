// /widget.js: <script src="https://HOST/widget.js" data-org="acme" async></script>
// Draws one iframe (HOST/widget.html) in the corner of the page and resizes it when the
// chat opens or closes. The chat, its tokens and its socket live inside the frame, on
// Raasel's origin: the host page cannot read them, and Raasel needs no CORS for it.
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script?.src) return;
  const origin = new URL(script.src).origin;
  const org = script.dataset.org ?? "";
  const group = script.dataset.group ?? "";
  const side = script.dataset.position === "left" ? "left" : "right";
  const frame = document.createElement("iframe");
  const query = new URLSearchParams({ org });
  if (group) query.set("group", group);
  frame.src = `${origin}/widget.html?${query}`;
  frame.title = "Chat with us";
  frame.setAttribute("data-raasel-widget", org);
  const closed = "width:84px;height:84px;";
  const open = "width:min(380px,calc(100vw - 16px));height:min(600px,calc(100vh - 16px));";
  const base = `position:fixed;bottom:8px;${side}:8px;border:0;background:transparent;z-index:2147483000;color-scheme:normal;`;
  frame.style.cssText = base + closed;
  // The frame's own storage may be denied (third-party), so its state is kept here.
  const storageKey = `raasel-widget:${org}`;
  const read = () => {
    try {
      return JSON.parse(localStorage.getItem(storageKey) ?? "{}");
    } catch {
      return {};
    }
  };
  window.addEventListener("message", (event) => {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    const data = event.data as { type?: string; open?: boolean; state?: unknown } | null;
    if (data?.type === "raasel:widget") frame.style.cssText = base + (data.open ? open : closed);
    if (data?.type === "raasel:hello") frame.contentWindow?.postMessage({ type: "raasel:restore", state: read() }, origin);
    if (data?.type === "raasel:store") {
      try {
        localStorage.setItem(storageKey, JSON.stringify(data.state ?? {}));
      } catch {
        // No storage here either: the chat lasts as long as the page.
      }
    }
  });
  const mount = () => document.body.appendChild(frame);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
