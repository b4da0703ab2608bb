// Attention for the console: a short tone (Web Audio, no file) and a "(3) " title badge.
// Browsers only let a page play sound after a user gesture, so the audio context is
// created on the first click or key press and the tone is skipped until then.

let audio: AudioContext | null = null;
let unseen = 0;
let baseTitle = "";

export function armSound(): void {
  const arm = () => {
    if (!audio) {
      try {
        audio = new AudioContext();
      } catch {
        audio = null;
      }
    }
    void audio?.resume();
  };
  window.addEventListener("pointerdown", arm, { once: true });
  window.addEventListener("keydown", arm, { once: true });
}

/** The short tone alone (the individual app keeps its own badge: individual/attention.ts). */
export function chime(): void {
  beep();
}

function beep(): void {
  if (!audio || audio.state !== "running") return;
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  oscillator.frequency.value = 880;
  gain.gain.setValueAtTime(0.08, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
  oscillator.connect(gain).connect(audio.destination);
  oscillator.start();
  oscillator.stop(audio.currentTime + 0.25);
}

export function setBaseTitle(title: string): void {
  baseTitle = title;
  renderTitle();
}

function renderTitle(): void {
  document.title = unseen > 0 ? `(${unseen}) ${baseTitle}` : baseTitle;
}

/** Something new arrived: sound, and a badge while the tab is not looked at. */
export function attention(): void {
  beep();
  if (document.visibilityState !== "visible" || !document.hasFocus()) {
    unseen += 1;
    renderTitle();
  }
}

export function clearAttention(): void {
  unseen = 0;
  renderTitle();
}

export function unseenCount(): number {
  return unseen;
}
