import { useEffect, useState } from "react";

// The location hash as the route: #/devices/dev-1 -> ["devices", "dev-1"].
export function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function go(...parts: string[]): void {
  location.hash = "#/" + parts.map(encodeURIComponent).join("/");
}

// Poll `load` every `ms` while mounted; returns its last result (or the error message).
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[]): [T | null, string] {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    const tick = async () => {
      try {
        const v = await load();
        if (live) { setValue(v); setError(""); }
      } catch (e) {
        if (live) setError(String((e as Error).message ?? e));
      }
    };
    tick();
    const id = window.setInterval(tick, ms);
    return () => { live = false; window.clearInterval(id); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return [value, error];
}
