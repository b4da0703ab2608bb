import { describe, expect, it } from "vitest";
import { LiveUnread } from "./liveUnread";

const org = () => "org";

describe("LiveUnread", () => {
  it("keeps the answer's count when only the other side's count changed", () => {
    const live = new LiveUnread();
    const ticket = live.begin();
    live.onUnread("c1", "peer", 0);
    expect(live.merge([{ id: "c1", unread: 1 }], ticket, org)).toEqual([{ id: "c1", unread: 1 }]);
  });

  it("keeps a read's count when the reload that started before it answers after it", () => {
    const live = new LiveUnread();
    live.onUnread("c1", "org", 1); // the other side's message: unread 1, and a reload starts
    const ticket = live.begin();
    live.onUnread("c1", "org", 0); // read while the reload is on its way
    const answer = [{ id: "c1", unread: 1 }, { id: "c2", unread: 3 }];
    expect(live.merge(answer, ticket, org)).toEqual([{ id: "c1", unread: 0 }, { id: "c2", unread: 3 }]);
  });

  it("takes the answer's count for what it heard before the reload started", () => {
    const live = new LiveUnread();
    live.onUnread("c1", "org", 0);
    const ticket = live.begin();
    expect(live.merge([{ id: "c1", unread: 2 }], ticket, org)).toEqual([{ id: "c1", unread: 2 }]);
  });

  it("drops an older reload's answer that arrives after a newer one started", () => {
    const live = new LiveUnread();
    const first = live.begin();
    const second = live.begin();
    expect(live.merge([{ id: "c1", unread: 1 }], first, org)).toBeNull();
    expect(live.merge([{ id: "c1", unread: 0 }], second, org)).toEqual([{ id: "c1", unread: 0 }]);
  });
});
