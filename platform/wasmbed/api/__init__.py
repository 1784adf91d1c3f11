"""The API server: REST + WebSocket over the store, enrollment authority, report sink."""
