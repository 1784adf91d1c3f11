import React, { useMemo, useState } from "react";
import { Api, ApiError } from "./api";
import { useFleet } from "./live";
import { go, useRoute } from "./hooks";
import { Overview } from "./pages/Overview";
import { Devices, DeviceDetail } from "./pages/Devices";
import { Applications, ApplicationDetail, NewApplication } from "./pages/Applications";
import { Boards } from "./pages/Boards";

const TOKEN_KEY = "wasmbed-token";

export function App() {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY) ?? "");
  if (!token) return <Login onToken={(t) => { sessionStorage.setItem(TOKEN_KEY, t); setToken(t); }} />;
  const signOut = () => { sessionStorage.removeItem(TOKEN_KEY); setToken(""); };
  return <Shell token={token} signOut={signOut} />;
}

function Login({ onToken }: { onToken: (t: string) => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState("");
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      await new Api(value.trim()).get("/status");
      onToken(value.trim());
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401
        ? "That token was refused. It is printed once when the API server first starts and kept in its data dir (file 'token')."
        : `Cannot reach the API: ${(err as Error).message}`);
    }
  };
  return (
    <main className="login">
      <h1>Wasmbed</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input id="token" data-testid="token" type="password" value={value} autoFocus
          onChange={(e) => setValue(e.target.value)} />
        <button type="submit" data-testid="login">Sign in</button>
        {error && <p className="error" data-testid="login-error">{error}</p>}
      </form>
    </main>
  );
}

function Shell({ token, signOut }: { token: string; signOut: () => void }) {
  const api = useMemo(() => new Api(token), [token]);
  const fleet = useFleet(api);
  const [page, name] = useRoute();
  let body: React.ReactNode;
  if (page === "devices" && name) body = <DeviceDetail api={api} fleet={fleet} name={name} />;
  else if (page === "devices") body = <Devices api={api} fleet={fleet} />;
  else if (page === "applications" && name === "new") body = <NewApplication api={api} fleet={fleet} />;
  else if (page === "applications" && name) body = <ApplicationDetail api={api} fleet={fleet} name={name} />;
  else if (page === "applications") body = <Applications fleet={fleet} />;
  else if (page === "boards") body = <Boards api={api} fleet={fleet} />;
  else body = <Overview api={api} fleet={fleet} />;
  const link = (target: string, label: string) => (
    <a href={`#/${target}`} className={(page ?? "") === target ? "active" : ""}>{label}</a>
  );
  return (
    <div className="shell">
      <nav>
        <strong>Wasmbed</strong>
        {link("", "Overview")}
        {link("devices", "Devices")}
        {link("applications", "Applications")}
        {link("boards", "Boards")}
        <span className={fleet.connected ? "live on" : "live"} data-testid="live">
          {fleet.connected ? "live" : "reconnecting…"}
        </span>
        <button className="link" onClick={() => { signOut(); go(""); }}>Sign out</button>
      </nav>
      <main>{body}</main>
    </div>
  );
}
