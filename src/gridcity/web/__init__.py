"""HTTP: the JSON API, the server-rendered UI, and the operations endpoints."""
