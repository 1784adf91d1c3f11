import React from "react";
import { Api, Resource } from "../api";
import { Fleet, sorted } from "../live";
import { usePoll } from "../hooks";
import { Phase, ago } from "./common";

function byPhase(items: Resource[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const i of items) {
    const p = i.status?.phase ?? "Unknown";
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return [...counts.entries()].sort();
}

function Card({ title, items, testid }: { title: string; items: Resource[]; testid: string }) {
  return (
    <section className="card" data-testid={testid}>
      <h2>{title} <span className="count">{items.length}</span></h2>
      <ul>
        {byPhase(items).map(([phase, n]) => (
          <li key={phase}><Phase phase={phase} /> {n}</li>
        ))}
      </ul>
    </section>
  );
}

export function Overview({ api, fleet }: { api: Api; fleet: Fleet }) {
  const gateways = sorted(fleet.gateways);
  const [health] = usePoll(
    () => Promise.all(gateways.map((g) => api.get(`/gateways/${g.metadata.name}/health`))),
    5000, [api, gateways.map((g) => g.metadata.name).join(",")]);
  return (
    <>
      <h1>Fleet overview</h1>
      <div className="cards">
        <Card title="Devices" items={[...fleet.devices.values()]} testid="devices-card" />
        <Card title="Applications" items={[...fleet.applications.values()]} testid="apps-card" />
        <Card title="Gateways" items={gateways} testid="gateways-card" />
      </div>
      <h2>Gateways</h2>
      <table>
        <thead><tr><th>Name</th><th>Phase</th><th>Endpoint</th><th>Devices</th><th>Last report</th><th>Answers</th></tr></thead>
        <tbody>
          {gateways.map((g, i) => (
            <tr key={g.metadata.name}>
              <td>{g.metadata.name}</td>
              <td><Phase phase={g.status?.phase} /></td>
              <td>{g.spec?.tlsEndpoint ?? "—"}</td>
              <td>{g.status?.connectedDevices ?? 0}</td>
              <td>{ago(g.status?.lastHeartbeat)}</td>
              <td>{health?.[i] ? (health[i].reachable ? "yes" : "no") : "…"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
