// What travels inside a ciphertext (the server never sees it): a small JSON object, padded
// like Signal's (0x80 then zeros to a multiple of 160 bytes) so the envelope's size tells
// the server only roughly how long a message is.
import { utf8 } from "./bytes";

export type Payload =
  /** A message to show. `resend_of`: the client_id of one the recipient could not decrypt. */
  | { v: 1; t: "text"; text: string; resend_of?: string }
  /** "I could not decrypt your message <client_id>: send it again" (after a session reset). */
  | { v: 1; t: "resend"; client_id: string };

const BLOCK = 160;
export const MAX_TEXT = 4000;

export function encodePayload(payload: Payload): Uint8Array {
  const body = utf8.encode(JSON.stringify(payload));
  const padded = new Uint8Array(Math.ceil((body.length + 1) / BLOCK) * BLOCK);
  padded.set(body);
  padded[body.length] = 0x80;
  return padded;
}

/** Throws a TypeError on anything that is not one of our payloads. */
export function decodePayload(bytes: Uint8Array): Payload {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  if (end < 0 || bytes[end] !== 0x80) throw new TypeError("bad padding");
  const value = JSON.parse(utf8.decode(bytes.subarray(0, end))) as Record<string, unknown>;
  if (value?.v !== 1) throw new TypeError("unknown payload version");
  if (value.t === "text" && typeof value.text === "string" && value.text.length <= MAX_TEXT && (value.resend_of === undefined || typeof value.resend_of === "string")) {
    return value.resend_of === undefined ? { v: 1, t: "text", text: value.text } : { v: 1, t: "text", text: value.text, resend_of: value.resend_of };
  }
  if (value.t === "resend" && typeof value.client_id === "string") return { v: 1, t: "resend", client_id: value.client_id };
  throw new TypeError("unknown payload");
}
