import React, { useState } from "react";
import { Any, Api, ApiError } from "../api";
import { Fleet } from "../live";
import { usePoll } from "../hooks";
import { ErrorNote, Phase, Time } from "./common";

export function Boards({ api, fleet }: { api: Api; fleet: Fleet }) {
  const [catalog] = usePoll(() => api.get("/boards/catalog"), 10000, [api]);
  const [boards, listError] = usePoll(() => api.get("/boards"), 2000, [api]);
  const [name, setName] = useState("");
  const [board, setBoard] = useState("stm32f4_discovery");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const start = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true); setError("");
    try { await api.post("/boards", { name, board }); setName(""); }
    catch (err) { setError(err instanceof ApiError ? `${err.code}: ${err.message} ${err.hint}` : String(err)); }
    finally { setBusy(false); }
  };
  return (
    <>
      <h1>Emulated boards</h1>
      <form onSubmit={start} className="inline">
        <input placeholder="device name" value={name} required onChange={(e) => setName(e.target.value)} data-testid="board-name" />
        <select value={board} onChange={(e) => setBoard(e.target.value)}>
          {(catalog?.items ?? []).map((b: Any) => (
            <option key={b.name} value={b.name} disabled={!b.qemu || !b.firmwareBuilt}>
              {b.name} ({b.mcu}){!b.qemu ? " — needs Renode" : !b.firmwareBuilt ? " — firmware not built" : ""}
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy} data-testid="start-board">{busy ? "Starting…" : "Start"}</button>
      </form>
      <ErrorNote error={error || listError} />
      {(boards?.items ?? []).length === 0 && (
        <p data-testid="no-boards">No boards running. Start one above: it gets its own identity,
          the real firmware, and a bridge to a gateway.</p>)}
      <table>
        <thead><tr><th>Name</th><th>Phase</th><th>Board</th><th>Gateway</th><th>Started</th><th>Link bytes up/down</th><th></th></tr></thead>
        <tbody>
          {(boards?.items ?? []).map((b: Any) => (
            <tr key={b.name}>
              <td><a href={`#/devices/${encodeURIComponent(b.name)}`}>{b.name}</a></td>
              <td><Phase phase={fleet.devices.get(b.name)?.status?.phase} /></td>
              <td>{b.board}</td><td>{b.gateway}</td>
              <td><Time iso={b.started} /></td>
              <td>{b.linkBytesUp} / {b.linkBytesDown}</td>
              <td><button onClick={() => api.del(`/boards/${b.name}`)}>Stop</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
