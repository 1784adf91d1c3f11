import React, { useState } from "react";
import { Any, Api, ApiError, b64 } from "../api";
import { Fleet, sorted } from "../live";
import { go } from "../hooks";
import { ErrorNote, Phase, confirmed, plain } from "./common";

const HELLO_C = `#include "wasmbed_app.h"

// Runs on the device: log a line, report a value, return a result.
WB_EXPORT("run") int run(void) {
    WB_LOG("hello from the dashboard");
    wb_report(wb_uptime_ms());
    return 42;
}
`;

export function Applications({ fleet }: { fleet: Fleet }) {
  const apps = sorted(fleet.applications);
  return (
    <>
      <h1>Applications <button onClick={() => go("applications", "new")} data-testid="new-app">New application</button></h1>
      {apps.length === 0 && (
        <p data-testid="no-apps">No applications yet. Create one with <b>New application</b>
          (upload a .wasm, or write C or Rust and compile it here), or with
          <code> wasmbed app deploy FILE --to DEVICE</code>.</p>)}
      <table data-testid="applications">
        <thead><tr><th>Name</th><th>Phase</th><th>Running</th><th>Completed</th><th>Failed</th><th>Targets</th></tr></thead>
        <tbody>
          {apps.map((a) => {
            const s = a.status?.statistics ?? {};
            return (
              <tr key={a.metadata.name} data-testid={`app-${a.metadata.name}`}>
                <td><a href={`#/applications/${encodeURIComponent(a.metadata.name)}`}>{a.metadata.name}</a></td>
                <td><Phase phase={a.status?.phase} /></td>
                <td>{s.running ?? 0}</td><td>{s.completed ?? 0}</td><td>{s.failed ?? 0}</td><td>{s.total ?? 0}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function describe(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${plain(err.message)}${err.hint ? ` (${err.hint})` : ""}`;
  return String((err as Error).message ?? err);
}

export function NewApplication({ api, fleet }: { api: Api; fleet: Fleet }) {
  const [name, setName] = useState("");
  const [mode, setMode] = useState<"source" | "upload">("source");
  const [language, setLanguage] = useState("c");
  const [code, setCode] = useState(HELLO_C);
  const [wasm, setWasm] = useState<string | null>(null);
  const [compileNote, setCompileNote] = useState("");
  const [targets, setTargets] = useState<Set<string>>(new Set());
  const [selector, setSelector] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const devices = sorted(fleet.devices);

  const compile = async () => {
    setBusy(true); setCompileNote(""); setWasm(null); setError("");
    try {
      const out: Any = await api.post("/compile", { language, code });
      setWasm(out.wasmBytes);
      setCompileNote(`compiled: ${out.size} bytes, sha256 ${out.sha256.slice(0, 12)}…`);
    } catch (e) {
      setCompileNote(describe(e));
    } finally { setBusy(false); }
  };
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setWasm(b64(await file.arrayBuffer()));
    setCompileNote(`${file.name}: ${file.size} bytes`);
  };
  const deploy = async (e: React.FormEvent) => {
    e.preventDefault();
    setError("");
    if (!wasm) { setError(mode === "source" ? "compile the source first" : "choose a .wasm file"); return; }
    setBusy(true);
    try {
      await api.post("/applications", {
        name, wasmBytes: wasm,
        targetDevices: selector ? { selector } : { deviceNames: [...targets] },
      });
      go("applications", name);
    } catch (err) { setError(describe(err)); } finally { setBusy(false); }
  };
  const toggle = (d: string) => {
    const next = new Set(targets);
    if (next.has(d)) next.delete(d); else next.add(d);
    setTargets(next);
  };
  return (
    <form onSubmit={deploy} className="new-app">
      <h1>New application</h1>
      <label>Name <input data-testid="app-name" value={name} required pattern="[a-z0-9]([a-z0-9.\-]*[a-z0-9])?"
        onChange={(e) => setName(e.target.value)} /></label>
      <div className="modes">
        <label><input type="radio" checked={mode === "source"} onChange={() => setMode("source")} /> Write source</label>
        <label><input type="radio" checked={mode === "upload"} onChange={() => setMode("upload")} data-testid="mode-upload" /> Upload .wasm</label>
      </div>
      {mode === "source" ? (
        <>
          <label>Language <select value={language} onChange={(e) => setLanguage(e.target.value)}>
            <option value="c">C</option><option value="rust">Rust</option></select></label>
          <textarea data-testid="source" value={code} rows={14} spellCheck={false}
            onChange={(e) => { setCode(e.target.value); setWasm(null); }} />
          <button type="button" onClick={compile} disabled={busy} data-testid="compile">Compile</button>
        </>
      ) : (
        <input type="file" accept=".wasm" data-testid="upload" onChange={(e) => upload(e.target.files?.[0])} />
      )}
      {compileNote && <pre className={wasm ? "ok" : "diagnostics"} data-testid="compile-result">{compileNote}</pre>}
      <fieldset>
        <legend>Deploy to</legend>
        {devices.map((d) => (
          <label key={d.metadata.name} className="target">
            <input type="checkbox" checked={targets.has(d.metadata.name)} data-testid={`target-${d.metadata.name}`}
              onChange={() => toggle(d.metadata.name)} /> {d.metadata.name} <Phase phase={d.status?.phase} />
          </label>
        ))}
        <label>or label selector <input value={selector} placeholder="tier=edge" data-testid="selector"
          onChange={(e) => setSelector(e.target.value)} /></label>
      </fieldset>
      <button type="submit" disabled={busy} data-testid="deploy">Deploy</button>
      <ErrorNote error={error} />
    </form>
  );
}

export function ApplicationDetail({ api, fleet, name }: { api: Api; fleet: Fleet; name: string }) {
  const a = fleet.applications.get(name);
  const [error, setError] = useState("");
  if (!a) return <p>Application {name} is not known (yet).</p>;
  const entries = Object.entries(a.status?.deviceStatuses ?? {}) as [string, Any][];
  const stop = async () => {
    try { await api.post(`/applications/${name}/stop`); } catch (e) { setError(describe(e)); }
  };
  const remove = async () => {
    if (!confirmed(`Delete ${name}? It is stopped on every device first.`)) return;
    try { await api.del(`/applications/${name}`); go("applications"); } catch (e) { setError(describe(e)); }
  };
  return (
    <>
      <h1>{name} <Phase phase={a.status?.phase} />{" "}
        <button onClick={stop} data-testid="stop"
          disabled={a.spec?.stopped || ["Stopping", "Stopped"].includes(a.status?.phase)}>Stop</button>{" "}
        <button onClick={remove} data-testid="delete-app">Delete</button></h1>
      <p>{a.spec?.wasmSize} bytes, sha256 <code>{String(a.spec?.sha256 ?? "").slice(0, 16)}…</code>, entry <code>{a.spec?.entry}</code></p>
      <ErrorNote error={error} />
      <table data-testid="app-devices">
        <thead><tr><th>Device</th><th>Phase</th><th>Error</th><th>Output</th></tr></thead>
        <tbody>
          {entries.map(([device, e]) => (
            <tr key={device} data-testid={`entry-${device}`}>
              <td><a href={`#/devices/${encodeURIComponent(device)}`}>{device}</a></td>
              <td><Phase phase={e.phase} /></td>
              <td>{e.error ?? ""}</td>
              <td className="outputs" data-testid={`outputs-${device}`}>
                {(e.outputs ?? []).map((o: Any, i: number) => (
                  <div key={i}><span className="kind">{o.kind}</span> {o.text ?? o.value}</div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
