// Polls `fn` every 100 ms until it returns something truthy (returned), or fails after
// `timeout` ms naming `what` and the last value or error seen. Shared by the scenarios.
export async function until(what, fn, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}
