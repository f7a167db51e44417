-- wrk script: durable key creation, POST /v1/keys authenticated by an API key, unique names.
local counter = 0
local thread_tag = 0
function setup(thread)
  thread_tag = thread_tag + 1
  thread:set("tag", thread_tag)
end
request = function()
  counter = counter + 1
  local body = '{"name":"c-' .. tag .. '-' .. counter .. '-' .. math.random(1, 1000000000) ..
               '","scopes":["Tasks"]}'
  return wrk.format("POST", "/v1/keys", {["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer " .. os.getenv("KEY")}, body)
end
