-- POST /v1/candidates with a unique email on each request (BENCH_TAG keeps runs apart).
-- The Authorization header comes from wrk's -H option.
local tag = os.getenv("BENCH_TAG") or "run"
-- wrk.format() sends wrk.headers (with -H's) only when given no headers of its own.
wrk.headers["Content-Type"] = "application/json"
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

local sent = 0
function request()
  sent = sent + 1
  local body = string.format(
    '{"first_name":"Bench","last_name":"Create","email":"%s-%d-%d@bench.example.com",' ..
    '"contact_consent":true}', tag, thread_id, sent)
  return wrk.format("POST", "/v1/candidates", nil, body)
end
