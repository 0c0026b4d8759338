-- wrk: an IdP's incremental sync, mixed: 40% GET /Users/{id}, 30% `userName eq` lookups,
-- 15% PATCH active (deactivate or reactivate), 15% POST /Users (new hires).
--   wrk -t1 -c8 -d15s --latency -H "Authorization: Bearer TOKEN" \
--       -s scripts/wrk/mixed_sync.lua BASE_URL -- IDS_FILE N PREFIX LABEL
-- IDS_FILE: one user id per line; N and PREFIX: the loaded userNames PREFIX00001@example.com
-- .. PREFIX{N:05d}@example.com (../shared/tools/bench_load.py writes both). LABEL names the
-- run in the RESULT line and keeps new userNames of parallel wrk processes apart.
local ids = {}
local n, prefix
-- A global, so that done() can read it from a thread (thread:get reads globals).
label = nil
local base
local counter = 0
local tid = 0
local threads = {}

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function headers(extra)
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

function setup(thread)
  thread:set("tid", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1] or error("usage: -- IDS_FILE N PREFIX LABEL")) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  n = tonumber(args[2])
  prefix = args[3]
  label = args[4] or "mixed"
  base = wrk.path:gsub("/$", "")
  math.randomseed(os.time() + tid * 7919 + math.floor(os.clock() * 1e6))
end

function request()
  local roll = math.random(100)
  local json = {["Accept"] = "application/scim+json", ["Content-Type"] = "application/scim+json"}
  if roll <= 40 then
    return wrk.format("GET", base .. "/Users/" .. ids[math.random(#ids)], headers(json))
  elseif roll <= 70 then
    local filter = string.format('userName eq "%s%05d@example.com"', prefix, math.random(n))
    return wrk.format("GET", base .. "/Users?filter=" .. urlencode(filter), headers(json))
  elseif roll <= 85 then
    local active = math.random(2) == 1 and "true" or "false"
    local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
      .. '"Operations":[{"op":"replace","path":"active","value":' .. active .. '}]}'
    return wrk.format("PATCH", base .. "/Users/" .. ids[math.random(#ids)], headers(json), body)
  else
    counter = counter + 1
    local name = string.format("hire-%s-%d-%d-%d@example.com", label, os.time(), tid, counter)
    local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],'
      .. '"userName":"' .. name .. '","active":true,'
      .. '"emails":[{"value":"' .. name .. '","type":"work","primary":true}]}'
    return wrk.format("POST", base .. "/Users", headers(json), body)
  end
end

function done(summary, latency, requests)
  -- done() runs where init() did not: read the label from a thread.
  local name = label or (threads[1] and threads[1]:get("label")) or "mixed"
  local s = summary.duration / 1e6
  io.write(string.format(
    "RESULT %s rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d errors=%d\n",
    name, summary.requests / s, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
