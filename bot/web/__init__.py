"""fanloop's own HTTP endpoints, on aiohttp's web server: the operations endpoints (`ops`:
GET /healthz, GET /metrics) today, public read-only pages later. Routes that are configured on
the same address share one listener (`server.HttpServers`)."""
