-- wrk script: POST /v1/verify with the key in KEY (env); the same body for nginx's fixed answer.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"' .. os.getenv("KEY") .. '","scope":"Tasks"}'
