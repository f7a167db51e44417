-- wrk script: GET /v1/auth with the key as a bearer token and a required scope.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
wrk.headers["X-Required-Scope"] = "Tasks"
