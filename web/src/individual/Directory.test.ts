import { describe, expect, it } from "vitest";
import { isNeed, sure } from "./Directory";

describe("directory", () => {
  it("treats a sentence as a need and a name as a search", () => {
    expect(isNeed("I was charged twice")).toBe(true);
    expect(isNeed("  acme  quotes ")).toBe(false); // two words: the directory search
    expect(isNeed("الفاتورة طالعة غالية")).toBe(true);
  });
  it("never claims certainty", () => {
    expect(sure(0.9995)).toBe("99% sure");
    expect(sure(0.62)).toBe("62% sure");
  });
});
