-- Wrong-password logins, each for a new email from a new client address (X-Forwarded-For,
-- which uvicorn trusts from 127.0.0.1), so the login throttle never answers in place of a
-- password check. done() prints the statuses seen, one "status <code> <count>" line each.
local tag = os.getenv("BENCH_TAG") or "storm"
local run = tonumber(os.getenv("BENCH_RUN") or "0")
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

statuses = {}
local sent = 0
function request()
  sent = sent + 1
  local address = string.format("fd00::%x:%x:%x", run, thread_id, sent)
  local body = string.format("username=%s-%d-%d%%40storm.example.com&password=wrong-password",
    tag, thread_id, sent)
  return wrk.format("POST", "/v1/auth/token", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = address,
  }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\n", status, count))
  end
end
