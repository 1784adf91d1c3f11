import React from "react";

export function Phase({ phase }: { phase?: string }) {
  const p = phase ?? "Unknown";
  return <span className={`phase phase-${p}`} data-testid="phase">{p}</span>;
}

export function ago(iso?: string): string {
  if (!iso) return "—";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s.toFixed(0)} s ago`;
  if (s < 3600) return `${(s / 60).toFixed(0)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

// A relative time ("12 s ago") with the absolute one on hover, as fleet UIs show them.
export function Time({ iso }: { iso?: string | null }) {
  if (!iso) return <span>—</span>;
  const absolute = new Date(Date.parse(iso)).toLocaleString();
  return <time dateTime={iso} title={absolute}>{ago(iso)}</time>;
}

// Ask before doing what cannot be undone.
export function confirmed(question: string): boolean {
  return window.confirm(question);
}

// An API refusal in plain words (a name pattern becomes the naming rule).
export function plain(message: string): string {
  if (/should match pattern/.test(message))
    return "use lowercase letters, digits and '-', starting and ending with a letter or digit (at most 63 characters)";
  return message;
}

export function ErrorNote({ error }: { error: string }) {
  return error ? <p className="error" data-testid="error">{error}</p> : null;
}
