import { TICK_LABEL, type Tick } from "../core/ticks";

/** Clock, one tick, two ticks, two blue ticks (WhatsApp-style), with a text label. */
export function Ticks({ tick }: { tick: Tick }) {
  const label = TICK_LABEL[tick];
  return (
    <span className={`ticks ticks-${tick}`} data-tick={tick} role="img" aria-label={label} title={label}>
      {tick === "clock" && (
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" strokeWidth="1.5" />
          <path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
        </svg>
      )}
      {tick === "failed" && <span aria-hidden="true">!</span>}
      {tick === "sent" && (
        <svg viewBox="0 0 16 16" width="16" height="14" aria-hidden="true">
          <path d="M2.5 8.5l3 3 7-7" fill="none" stroke="currentColor" strokeWidth="1.6" />
        </svg>
      )}
      {(tick === "delivered" || tick === "read") && (
        <svg viewBox="0 0 20 16" width="19" height="14" aria-hidden="true">
          <path d="M1.5 8.5l3 3 7-7M8 11.5l8-8" fill="none" stroke="currentColor" strokeWidth="1.6" />
        </svg>
      )}
    </span>
  );
}
