import React, { useState } from "react";
import { Api, ApiError } from "../api";
import { Fleet, sorted } from "../live";
import { go, usePoll } from "../hooks";
import { ErrorNote, Phase, Time, confirmed, plain } from "./common";

function describe(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${plain(err.message)}${err.hint ? ` (${err.hint})` : ""}`;
  return String((err as Error).message ?? err);
}

// Register a device by its public key (printed by `wasmbed device provision`), with labels.
function Register({ api }: { api: Api }) {
  const [name, setName] = useState("");
  const [board, setBoard] = useState("virtual");
  const [key, setKey] = useState("");
  const [labels, setLabels] = useState("");
  const [error, setError] = useState("");
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError("");
    const parsed: Record<string, string> = {};
    for (const pair of labels.split(",").map((p) => p.trim()).filter(Boolean)) {
      const [k, v] = pair.split("=");
      if (!k || v === undefined) { setError(`label "${pair}" is not key=value`); return; }
      parsed[k.trim()] = v.trim();
    }
    try {
      await api.post("/devices", { name, board, publicKey: key.trim() || undefined, labels: parsed });
      setName(""); setKey(""); setLabels("");
    } catch (err) { setError(describe(err)); }
  };
  const [open, setOpen] = useState(false);
  if (!open)
    return <p><button onClick={() => setOpen(true)} data-testid="register-open">Register a device…</button></p>;
  return (
    <form onSubmit={submit} className="register">
      <h2>Register a device</h2>
      <label>Name <input placeholder="dev-1" value={name} required onChange={(e) => setName(e.target.value)} data-testid="register-name" /></label>
      <label>Board <input placeholder="catalog name, or virtual" value={board} onChange={(e) => setBoard(e.target.value)} /></label>
      <label>Public key <textarea placeholder="PEM, as `wasmbed device provision` prints it, or base64 DER" value={key} rows={3} onChange={(e) => setKey(e.target.value)} data-testid="register-key" /></label>
      <label>Labels <input placeholder="tier=edge, zone=eu" value={labels} onChange={(e) => setLabels(e.target.value)} data-testid="register-labels" /></label>
      <button type="submit" data-testid="register">Register</button>{" "}
      <button type="button" onClick={() => setOpen(false)}>Cancel</button>
      {error && <p className="error" data-testid="register-error">{error}</p>}
    </form>
  );
}

export function Devices({ api, fleet }: { api: Api; fleet: Fleet }) {
  const devices = sorted(fleet.devices);
  return (
    <>
      <h1>Devices</h1>
      <Register api={api} />
      {devices.length === 0 && <p>No devices yet. Register one (wasmbed device add) or start a board.</p>}
      <table data-testid="devices">
        <thead><tr><th>Name</th><th>Phase</th><th>Board</th><th>Gateway</th><th>Last heartbeat</th><th>Labels</th></tr></thead>
        <tbody>
          {devices.map((d) => (
            <tr key={d.metadata.name} data-testid={`device-${d.metadata.name}`}>
              <td><a href={`#/devices/${encodeURIComponent(d.metadata.name)}`}>{d.metadata.name}</a></td>
              <td><Phase phase={d.status?.phase} /></td>
              <td>{d.spec?.mcuType}</td>
              <td>{d.status?.gateway?.name ?? "—"}</td>
              <td><Time iso={d.status?.lastHeartbeat} /></td>
              <td className="labels">
                {Object.entries(d.metadata.labels ?? {})
                  .filter(([k]) => !k.startsWith("wasmbed.github.io/"))
                  .map(([k, v]) => <code key={k}>{k}={v}</code>)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function DeviceDetail({ api, fleet, name }: { api: Api; fleet: Fleet; name: string }) {
  const d = fleet.devices.get(name);
  const [events, eventsError] = usePoll(() => api.get(`/devices/${name}/events?limit=50`), 2000, [api, name]);
  const [console_] = usePoll(
    () => api.get(`/devices/${name}/console?tail=200`).catch(() => null), 1000, [api, name]);
  const [actionError, setActionError] = useState("");
  if (!d) return <p>Device {name} is not known (yet).</p>;
  const st = d.status ?? {};
  const act = async (what: "revoke" | "delete") => {
    setActionError("");
    const question = what === "revoke"
      ? `Revoke ${name}? Its certificates stop working at once; it must be registered again.`
      : `Delete ${name}? Its certificates are revoked and its record is gone.`;
    if (!confirmed(question)) return;
    try {
      if (what === "revoke") await api.post(`/devices/${name}/revoke`);
      else { await api.del(`/devices/${name}`); go("devices"); }
    } catch (e) { setActionError(describe(e)); }
  };
  const apps = sorted(fleet.applications).filter((a) => a.status?.deviceStatuses?.[name]);
  return (
    <>
      <h1>{name} <Phase phase={st.phase} />{" "}
        <button onClick={() => act("revoke")} disabled={st.revoked} data-testid="revoke">Revoke</button>{" "}
        <button onClick={() => act("delete")} data-testid="delete-device">Delete</button>
      </h1>
      <ErrorNote error={actionError} />
      <dl className="facts">
        <dt>Board</dt><dd>{d.spec?.mcuType}</dd>
        <dt>Gateway</dt><dd>{st.gateway?.name ?? "—"}</dd>
        <dt>Labels</dt><dd data-testid="device-labels">{Object.entries(d.metadata.labels ?? {})
          .filter(([k]) => !k.startsWith("wasmbed.github.io/"))
          .map(([k, v]) => <code key={k}>{k}={v}</code>)}{Object.keys(d.metadata.labels ?? {}).length === 0 && "none"}</dd>
        <dt>Connected since</dt><dd><Time iso={st.connectedSince} /></dd>
        <dt>Last heartbeat</dt><dd data-testid="last-heartbeat"><Time iso={st.lastHeartbeat} /></dd>
        <dt>Uptime</dt><dd>{st.heartbeat?.uptimeMs != null ? `${(st.heartbeat.uptimeMs / 1000).toFixed(0)} s` : "—"}</dd>
        <dt>Free memory</dt><dd>{st.heartbeat?.freeMemory ?? "—"}</dd>
        <dt>Firmware</dt><dd>{st.firmwareVersion ?? "—"}</dd>
        <dt>Certificate</dt><dd>{st.certificate ? `serial ${st.certificate.serial}, until ${st.certificate.notAfter}` : "none yet"}</dd>
      </dl>
      <h2>Applications</h2>
      <ul>
        {apps.map((a) => (
          <li key={a.metadata.name}>
            <a href={`#/applications/${encodeURIComponent(a.metadata.name)}`}>{a.metadata.name}</a>{" "}
            <Phase phase={a.status.deviceStatuses[name].phase} />
          </li>
        ))}
        {apps.length === 0 && <li>none</li>}
      </ul>
      {console_ && (
        <>
          <h2>Console</h2>
          <pre className="console" data-testid="console">{console_.lines.join("\n")}</pre>
        </>
      )}
      <h2>Events</h2>
      <ErrorNote error={eventsError} />
      <table className="events">
        <tbody>
          {(events?.items ?? []).slice().reverse().map((e: { seq: number; at: string; type: string; [k: string]: unknown }) => (
            <tr key={e.seq}><td><Time iso={e.at} /></td><td>{e.type}</td>
              <td>{Object.entries(e).filter(([k, v]) => !["seq", "at", "type"].includes(k) && v != null)
                .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ")}</td></tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
