// The Signal library's fingerprint generator hashes 5,200 rounds through msrcrypto, which
// waits for `setImmediate` between rounds, or for `setTimeout(0)` where there is none: in a
// browser that is clamped to 4 ms a round, 40 s for one safety number. A `setImmediate` on
// a MessageChannel (unclamped) is installed before the library loads; this chunk only.
type Immediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => number;

const scope = globalThis as unknown as { setImmediate?: Immediate };
if (typeof scope.setImmediate !== "function" && typeof MessageChannel !== "undefined") {
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  scope.setImmediate = (callback, ...args) => {
    queue.push(() => callback(...args));
    channel.port2.postMessage(0);
    return queue.length;
  };
}

export {};
