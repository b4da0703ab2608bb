// Safety numbers (docs/e2e.md, "Safety numbers"): Signal's 60 digits in 12 groups of five,
// and a QR code of them for the other person to scan; or paste what they read out or
// scanned to compare here. One per device of the contact (each device has its own keys).
import qrcode from "qrcode-generator";
import { useEffect, useMemo, useState } from "react";
import type { E2eDevice } from "../e2e/device";

export interface DeviceNumber {
  address: string;
  deviceId: number;
  number: string;
  changed: boolean;
  verified: boolean;
}

export function groups(number: string): string[] {
  return number.match(/\d{5}/g) ?? [];
}

/** What the QR code holds: a prefix so that a scan is recognised, then the 60 digits. */
export function qrText(number: string): string {
  return `raasel-safety-number:0:${number}`;
}

/** Digits from what was pasted or scanned (spaces, the QR prefix): compare these. */
export function digitsOf(text: string): string {
  return text.replace(/^raasel-safety-number:0:/, "").replace(/\D/g, "");
}

function QrCode({ text, label }: { text: string; label: string }) {
  const path = useMemo(() => {
    const qr = qrcode(0, "M");
    qr.addData(text);
    qr.make();
    const n = qr.getModuleCount();
    let d = "";
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + 4} ${r + 4}h1v1h-1z`;
    return { d, size: n + 8 };
  }, [text]);
  return (
    <svg className="qr" viewBox={`0 0 ${path.size} ${path.size}`} role="img" aria-label={label} data-testid="safety-qr" shapeRendering="crispEdges">
      <rect width={path.size} height={path.size} fill="#fff" />
      <path d={path.d} fill="#000" />
    </svg>
  );
}

export function SafetyNumbers({ device, peerId, peerName, onClose, onChanged }: { device: E2eDevice; peerId: string; peerName: string; onClose: () => void; onChanged: () => void }) {
  const [numbers, setNumbers] = useState<DeviceNumber[] | null>(null);
  const [pasted, setPasted] = useState("");
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    void device.safetyNumbers(peerId).then(setNumbers, (e: unknown) => setError(`The safety numbers could not be computed: ${e instanceof Error ? e.message : String(e)}`));
  useEffect(load, [device, peerId]);

  const verify = async (address: string) => {
    await device.store.acknowledgeIdentity(address, true);
    load();
    onChanged();
  };

  const entered = digitsOf(pasted);
  return (
    <section className="safety card" aria-labelledby="safety-title" data-testid="safety-numbers">
      <div className="row-between">
        <h3 id="safety-title">Safety numbers with {peerName}</h3>
        <button type="button" className="link" onClick={onClose} aria-label="Close safety numbers">
          ×
        </button>
      </div>
      <p className="muted small">
        Compare these numbers with {peerName} in person or over a call, or let them scan the code. If they match, nobody is
        reading along: not even this server. Each of {peerName}'s devices has its own.
      </p>
      {error && <p className="error-text">{error}</p>}
      {numbers === null && !error && <p className="muted">Computing…</p>}
      {numbers?.length === 0 && <p className="muted">No keys of {peerName}'s yet: they appear after the first message either way.</p>}
      {numbers?.map((n, i) => (
        <div key={n.address} className="safety-device" data-device={n.deviceId}>
          <h4 title={`device id ${n.deviceId}`}>
            Device {i + 1} {n.verified && <span className="verified">✓ Verified</span>}
            {n.changed && <span className="changed">changed</span>}
          </h4>
          <div className="safety-grid" data-testid="safety-digits" aria-label={`Safety number ${groups(n.number).join(" ")}`}>
            {groups(n.number).map((g, i) => (
              <code key={i}>{g}</code>
            ))}
          </div>
          <QrCode text={qrText(n.number)} label={`QR code of the safety number for device ${i + 1}`} />
          {entered.length === 60 && (
            <p className={entered === n.number ? "ok" : "error-text"} role="status">
              {entered === n.number ? "✓ The numbers match." : "✗ The numbers do not match: do not trust this device until you know why."}
            </p>
          )}
          {!n.verified && (
            <button type="button" className="secondary small-button" onClick={() => verify(n.address)}>
              Mark device {i + 1} as verified
            </button>
          )}
        </div>
      ))}
      <label className="field">
        <span>Compare with the number they read out or you scanned</span>
        <input value={pasted} onChange={(e) => setPasted(e.target.value)} placeholder="12345 67890 …" inputMode="numeric" />
      </label>
    </section>
  );
}
