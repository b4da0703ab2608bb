// Receipts this socket reports: `receipt:delivered` and `receipt:read` only when the
// position to report is above what this socket (or the server, as far as we know) already
// has, bursts coalesced into one emit per conversation per flush, and never two for one
// message: reading implies delivery, so a pending `read` swallows the `delivered`.
import { compareMarks, laterMark, NOTHING, type Mark } from "./order";
import type { Watermarks } from "./protocol";
import type { Transport } from "./transport";

type Kind = "delivered" | "read";

interface Watermark {
  /** What the server has (its answer, its events) or what we sent and it acknowledged. */
  known: Mark;
  /** Emitted, not acknowledged yet. */
  sent: Mark;
  /** What the user's device has reached: to report at the next flush. */
  wanted: Mark;
}

const FLUSH_MS = 100;

export class ReceiptReporter {
  private marks = new Map<string, Record<Kind, Watermark>>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Receipts emitted, for the tests and the benchmark's receipts-per-message figure. */
  emitted = 0;

  constructor(private readonly transport: Transport) {}

  /** A message of the other side reached this device. */
  delivered(conversationId: string, mark: Mark): void {
    this.want(conversationId, "delivered", mark);
  }

  /** The user has seen everything up to this message of the other side. */
  read(conversationId: string, mark: Mark): void {
    this.want(conversationId, "read", mark);
  }

  /** The server's watermarks for our side (views, sync answers, receipt:update). */
  learn(conversationId: string, mine: Watermarks | undefined): void {
    if (!mine) return;
    const state = this.stateOf(conversationId);
    const read = { id: mine.read_up_to, position: mine.read_position };
    state.read.known = laterMark(state.read.known, read);
    state.delivered.known = laterMark(laterMark(state.delivered.known, { id: mine.delivered_up_to, position: mine.delivered_position }), read);
  }

  /** Who counts for `read` changed (a new assignee): report our read position again. */
  forgetRead(conversationId: string): void {
    const state = this.marks.get(conversationId);
    if (state) state.read.known = state.read.sent = NOTHING;
  }

  /** After a reconnect: what did not get through is wanted again. */
  resume(): void {
    for (const state of this.marks.values()) {
      for (const kind of ["delivered", "read"] as const) state[kind].sent = state[kind].known;
    }
    this.schedule();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private want(conversationId: string, kind: Kind, mark: Mark): void {
    if (mark.id === "0" && !mark.position) return;
    const state = this.stateOf(conversationId);
    state[kind].wanted = laterMark(state[kind].wanted, mark);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, FLUSH_MS);
  }

  /** One emit per conversation at most: `read` when it moved, else `delivered`. */
  flush(): void {
    if (!this.transport.isConnected) return; // resume() runs on the next connect
    for (const [conversationId, state] of this.marks) {
      const read = state.read;
      const delivered = state.delivered;
      const readFloor = laterMark(read.known, read.sent);
      const deliveredFloor = laterMark(laterMark(delivered.known, delivered.sent), readFloor);
      if (compareMarks(read.wanted, readFloor) > 0) {
        this.emit(conversationId, "read", read.wanted);
      } else if (compareMarks(delivered.wanted, deliveredFloor) > 0) {
        this.emit(conversationId, "delivered", delivered.wanted);
      }
    }
  }

  private emit(conversationId: string, kind: Kind, mark: Mark): void {
    const state = this.stateOf(conversationId);
    state[kind].sent = mark;
    if (kind === "read") state.delivered.sent = laterMark(state.delivered.sent, mark);
    const payload = mark.position !== undefined ? { conversation_id: conversationId, up_to_position: mark.position } : { conversation_id: conversationId, up_to: mark.id };
    this.emitted += 1;
    this.transport.request(`receipt:${kind}`, payload).then(
      () => {
        state[kind].known = laterMark(state[kind].known, mark);
        if (kind === "read") state.delivered.known = laterMark(state.delivered.known, mark);
      },
      () => {
        // Not reported: the next connect (or the next message) reports it again.
        state[kind].sent = state[kind].known;
        if (kind === "read") state.delivered.sent = state.delivered.known;
      },
    );
  }

  private stateOf(conversationId: string): Record<Kind, Watermark> {
    let state = this.marks.get(conversationId);
    if (!state) {
      const empty = (): Watermark => ({ known: NOTHING, sent: NOTHING, wanted: NOTHING });
      this.marks.set(conversationId, (state = { delivered: empty(), read: empty() }));
    }
    return state;
  }
}
