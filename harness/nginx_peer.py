"""NGINX as the local limit for mutual-TLS handshakes: Debian's `nginx` with its stream
module terminating TLS 1.3 with `ssl_verify_client`, the gateway's certificates and CRLs,
one worker. The gateway benchmark measures its handshake rate in the same run as the
gateway's; the ratio is the figure, since absolute rates depend on the machine."""

from __future__ import annotations

import shutil
import socket
from functools import partial
from pathlib import Path

from wasmbed.processes import ManagedProcess, ProcessGroup
from wasmbed.serving import free_port
from wasmbed.waiting import wait_for

STREAM_MODULES = [Path("/usr/lib/nginx/modules/ngx_stream_module.so")]
INSTALL = "apt-get install -y --no-install-recommends nginx libnginx-mod-stream"


class NginxMissing(RuntimeError):
    pass


def find_nginx() -> tuple[str, Path]:
    exe = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    module = next((m for m in STREAM_MODULES if m.exists()), None)
    if not exe or not module:
        raise NginxMissing(f"NGINX with its stream module is not installed: {INSTALL}")
    return exe, module


def config(directory: Path, module: Path, port: int, cert: Path, key: Path, trust: Path,
           crl: Path) -> str:
    return f"""load_module {module};
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 8192; }}
stream {{
    server {{
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.3;
        ssl_verify_client on;
        ssl_client_certificate {trust};
        ssl_crl {crl};
        ssl_verify_depth 4;
        ssl_session_tickets off;
        return "ok\n";  # to a verified client only: what tells refusal from success
    }}
}}
"""


def start_nginx(directory: Path, group: ProcessGroup, cert: Path, key: Path, trust_pem: bytes,
                crl_pem: bytes, attempts: int = 5) -> int:
    """NGINX on a free loopback port (it cannot bind port 0 and report it; a port taken
    between the probe and its bind costs a retry). Returns the port."""
    exe, module = find_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    trust, crl = directory / "trust.pem", directory / "crl.pem"
    trust.write_bytes(trust_pem)
    crl.write_bytes(crl_pem)
    for attempt in range(attempts):
        port = free_port()
        conf = directory / "nginx.conf"
        conf.write_text(config(directory, module, port, cert, key, trust, crl))
        argv = [exe, "-e", str(directory / "error.log"), "-p", str(directory), "-c", str(conf)]
        proc = group.add(ManagedProcess(f"nginx-{attempt}", argv,
                                        directory / f"nginx-{attempt}.log"))
        proc.start()
        wait_for(partial(_listening_or_gone, proc, port), 15,
                 f"NGINX listening on 127.0.0.1:{port}", interval=0.05)
        if proc.alive:
            return port
        proc.stop()
    raise RuntimeError(f"NGINX did not start; its log: {(directory / 'error.log').read_text()}")


def _listening_or_gone(proc: ManagedProcess, port: int) -> bool:
    if not proc.alive:
        return True  # it exited (the port was taken, or a bad config): the caller retries
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
