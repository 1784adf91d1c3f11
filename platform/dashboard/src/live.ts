// Live resources: one WebSocket watch of devices, applications and gateways. The server
// first sends every object as ADDED, then changes; on a drop we reconnect and resume from
// the last resourceVersion seen (a fresh list if the server says it is Gone).
import { useEffect, useState } from "react";
import { Api, Resource } from "./api";

export interface Fleet {
  devices: Map<string, Resource>;
  applications: Map<string, Resource>;
  gateways: Map<string, Resource>;
  connected: boolean;
}

const KEYS: Record<string, keyof Omit<Fleet, "connected">> = {
  Device: "devices",
  Application: "applications",
  Gateway: "gateways",
};

export function useFleet(api: Api): Fleet {
  const [fleet, setFleet] = useState<Fleet>({
    devices: new Map(), applications: new Map(), gateways: new Map(), connected: false,
  });
  useEffect(() => {
    let ws: WebSocket | null = null;
    let closed = false;
    let lastRv: string | undefined;
    let retry: number | undefined;
    const open = () => {
      ws = new WebSocket(api.watchUrl("devices,applications,gateways", lastRv));
      ws.onopen = () => setFleet((f) => ({ ...f, connected: true }));
      ws.onmessage = (msg) => {
        const ev = JSON.parse(msg.data);
        if (ev.type === "ERROR") {
          if (ev.code === "Gone") lastRv = undefined;
          return;
        }
        const obj: Resource = ev.object;
        const key = KEYS[obj.kind ?? ""];
        if (!key) return;
        lastRv = obj.metadata.resourceVersion ?? lastRv;
        setFleet((f) => {
          const next = new Map(f[key]);
          if (ev.type === "DELETED") next.delete(obj.metadata.name);
          else next.set(obj.metadata.name, obj);
          return { ...f, [key]: next };
        });
      };
      ws.onclose = () => {
        setFleet((f) => ({ ...f, connected: false }));
        if (!closed) retry = window.setTimeout(open, 1000);
      };
    };
    open();
    return () => {
      closed = true;
      window.clearTimeout(retry);
      ws?.close();
    };
  }, [api]);
  return fleet;
}

export function sorted(m: Map<string, Resource>): Resource[] {
  return [...m.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
