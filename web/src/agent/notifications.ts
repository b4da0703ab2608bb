// Browser notifications for the console (the Notification API), besides the sound and
// the title badge of lib/notify.ts. Permission is asked once, after a click (browsers
// ignore a request made without a user gesture); the answer is remembered.
const ASKED = "raasel.console.notifications-asked";

export function notificationsState(): "granted" | "denied" | "default" | "unsupported" {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

export function askOnce(): void {
  if (notificationsState() !== "default") return;
  try {
    if (localStorage.getItem(ASKED)) return;
    localStorage.setItem(ASKED, "1");
  } catch {
    // Storage denied: ask this once anyway.
  }
  void Notification.requestPermission();
}

/** Arm the one-time request on the first click of the console. */
export function armNotifications(): void {
  window.addEventListener("pointerdown", askOnce, { once: true });
}

export function notify(title: string, body: string, onClick?: () => void): void {
  if (notificationsState() !== "granted" || (document.visibilityState === "visible" && document.hasFocus())) return;
  try {
    const n = new Notification(title, { body: body.slice(0, 140), tag: title });
    n.onclick = () => {
      window.focus();
      onClick?.();
      n.close();
    };
  } catch {
    // Some browsers only allow notifications from a service worker: the badge remains.
  }
}
