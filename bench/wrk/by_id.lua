-- GET /v1/candidates/{id}, a random id of BENCH_IDS (one per line) on each request.
-- The Authorization header comes from wrk's -H option.
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  ids[#ids + 1] = line
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
  return wrk.format("GET", "/v1/candidates/" .. ids[math.random(#ids)])
end
