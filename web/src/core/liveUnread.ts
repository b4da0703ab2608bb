// Unread counts a list reloads over REST while `unread:update` events keep arriving:
// an answer computed before a read was committed must not put back the count that
// read cleared (the b2b list's badge stayed at 1 after reading: its reload, started by
// the other side's message, answered after the read's `unread:update {unread: 0}`).
// Each event is stamped; a reload remembers the stamp it started at and keeps, for
// every conversation heard of since, the event's count instead of the answer's.
export interface Counted {
  id: string;
  unread?: number;
}

/** Which side of a conversation a list item counts for (b2b: ``org`` or ``peer``). */
type SideOf<T> = (item: T) => string;

export class LiveUnread {
  private heard = new Map<string, { unread: number; stamp: number }>();
  private stamp = 0;
  private started = 0;

  /** An `unread:update` of one side of ``conversationId``. */
  onUnread(conversationId: string, side: string, unread: number): void {
    this.heard.set(`${conversationId} ${side}`, { unread, stamp: ++this.stamp });
  }

  /** A reload starts: returns its ticket for `merge`. */
  begin(): { stamp: number; reload: number } {
    return { stamp: this.stamp, reload: ++this.started };
  }

  /** The reload's answer with the counts heard after it started; null when a newer
   * reload started since (its answer is the one to show). */
  merge<T extends Counted>(items: T[], ticket: { stamp: number; reload: number }, sideOf: SideOf<T>): T[] | null {
    if (ticket.reload !== this.started) return null;
    return items.map((c) => {
      const heard = this.heard.get(`${c.id} ${sideOf(c)}`);
      return heard && heard.stamp > ticket.stamp ? { ...c, unread: heard.unread } : c;
    });
  }
}
