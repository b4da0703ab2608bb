// Conversation views carry org_id only; remember the names seen in the directory.
const KEY = "raasel.orgNames";

function read(): Record<string, string> {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? "{}") as Record<string, string>;
  } catch {
    return {};
  }
}

export function rememberOrgName(id: string, name: string): void {
  const names = read();
  if (names[id] === name) return;
  names[id] = name;
  localStorage.setItem(KEY, JSON.stringify(names));
}

export function orgName(id: string): string | undefined {
  return read()[id];
}
