"""The API's routers, one per resource; build_app (api/app.py) mounts them."""
