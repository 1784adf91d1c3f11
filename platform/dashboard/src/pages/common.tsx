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

export function ErrorNote({ error }: { error: string }) {
  return error ? <p className="error" data-testid="error">{error}</p> : null;
}
