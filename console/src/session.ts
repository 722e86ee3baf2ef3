// The signed-in user's keys: kept in the tab's sessionStorage only (issue 9: never localStorage,
// never a cookie), so closing the tab signs out.

export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

const KEY = "thaw.console.session";

export function loadSession(storage: Pick<Storage, "getItem">): Session | null {
  const raw = storage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.accessKeyId !== "string" || typeof s.secretAccessKey !== "string") return null;
    if (!s.accessKeyId || !s.secretAccessKey) return null;
    return {
      accessKeyId: s.accessKeyId,
      secretAccessKey: s.secretAccessKey,
      region: typeof s.region === "string" && s.region ? s.region : "us-east-1",
    };
  } catch {
    return null;
  }
}

export function saveSession(storage: Pick<Storage, "setItem">, s: Session): void {
  storage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(storage: Pick<Storage, "removeItem">): void {
  storage.removeItem(KEY);
}

// What the sign-in form accepts; null when valid, else the message to show.
export function validateSignIn(s: Session): string | null {
  // Only what cannot be a key at all: thaw itself says whether the pair is known.
  if (!/^[A-Za-z0-9_+=/-]{1,128}$/.test(s.accessKeyId.trim()))
    return "The access key id is letters and digits (thaw-data/credentials, aws_access_key_id).";
  if (!s.secretAccessKey.trim()) return "The secret access key is empty.";
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(s.region.trim())) return "The region looks like us-east-1.";
  return null;
}
