-- wrk script: POST OpenLineage events read from one NDJSON file per wrk thread (<prefix><id>.ndjson),
-- streamed line by line, so every request carries events that no earlier request sent. When a
-- file runs out it starts over and `wrapped` counts it (the harness reports that reuse).
-- args: <file prefix> <path> <events per request: 0 = one JSON object, n = a JSON array of n>
--       <lines to skip first: where the previous run on the same files stopped>

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end

local function next_line()
  local line = handle:read("*l")
  if line == nil then
    handle:close()
    handle = assert(io.open(file_name, "rb"))
    wrapped = wrapped + 1
    line = handle:read("*l")
  end
  return line
end

function init(args)
  file_name = args[1] .. id .. ".ndjson"
  path = args[2]
  batch = tonumber(args[3] or "0")
  headers = { ["Content-Type"] = "application/json" }
  handle = assert(io.open(file_name, "rb"))
  sent, events, wrapped = 0, 0, 0
  for _ = 1, tonumber(args[4] or "0") do
    next_line()
  end
end

function request()
  local body
  if batch == 0 then
    body = next_line()
    events = events + 1
  else
    local items = {}
    for k = 1, batch do
      items[k] = next_line()
    end
    body = "[" .. table.concat(items, ",") .. "]"
    events = events + batch
  end
  sent = sent + 1
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("BENCH thread=%d requests=%d events=%d wrapped=%d\n",
      t:get("id"), t:get("sent"), t:get("events"), t:get("wrapped")))
  end
end
