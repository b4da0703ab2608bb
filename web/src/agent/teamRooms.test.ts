import { describe, expect, it } from "vitest";
import { mentionsMe } from "./TeamRoomsPanel";

describe("mentionsMe (the server's rule: a whole @Display Name, any case)", () => {
  it("finds a whole name", () => {
    expect(mentionsMe("ask @Bob Agent please", "Bob Agent")).toBe(true);
    expect(mentionsMe("@bob agent!", "Bob Agent")).toBe(true);
  });
  it("ignores a longer name and no name", () => {
    expect(mentionsMe("ask @Bob Agents", "Bob Agent")).toBe(false);
    expect(mentionsMe("Bob Agent without the at", "Bob Agent")).toBe(false);
    expect(mentionsMe("@", "")).toBe(false);
  });
});
