"""TLS over asyncio on memory BIOs: the gateway's server end (`server`), the virtual
devices' client end (`client`), and the record pump they share (`streams`)."""
