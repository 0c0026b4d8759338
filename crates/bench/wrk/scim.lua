-- wrk scenarios of scripts/bench, one script for all of them: the first argument after `--`
-- names the scenario, the rest are its inputs (files the harness wrote, counts, names).
--
--   wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer TOKEN" \
--       -s crates/bench/wrk/scim.lua BASE_URL -- SCENARIO THREADS ARGS...
--
--   get_by_id    IDS_FILE              GET /Users/{id}, a random id
--   filter       ATTR N PREFIX         GET /Users?filter=ATTR eq "...", ATTR userName or
--                                      externalId, a random one of users 1..N
--   create       LABEL                 POST /Users, a new userName each time
--   patch_active IDS_FILE              PATCH active=false in Okta's shape (a path-less
--                                      replace); each thread walks its share of the ids, and
--                                      sends active=true on the next pass, so every request
--                                      changes something
--   member       GROUP_ID MOVERS_FILE  PATCH /Groups/{id}?excludedAttributes=members: add a
--                                      mover, and remove it on the next pass over the movers
--   page_index   TOTAL SPAN COUNT      GET /Users?startIndex=S&count=COUNT, S random among
--                                      the last SPAN users
--   page_cursor  CURSORS_FILE COUNT    GET /Users?cursor=C&count=COUNT, C a random one
--   mixed        IDS_FILE N PREFIX LABEL  an IdP's sync: 40% get_by_id, 30% userName filter,
--                                      15% patch_active (random value), 15% create
--
-- THREADS is wrk's -t, so that threads can split ids without overlapping. Users 1..N are
-- PREFIX{n:05d}@example.com with externalId ext-{n} (what crates/bench's loader and
-- ../shared/tools/bench_load.py create). done() prints one line for the harness:
--   RESULT rps=... p50_ms=... p90_ms=... p99_ms=... max_ms=... requests=... non2xx=... errors=...

local PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
local USER = "urn:ietf:params:scim:schemas:core:2.0:User"

local threads = {}
local base, scenario, nthreads
local ids, slice = {}, {}
local counter = 0
local a = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
  if not run_id then
    math.randomseed(os.time() + math.floor(os.clock() * 1e6))
    run_id = string.format("%x%04x", os.time(), math.random(0, 0xffff))
  end
  thread:set("run_id", run_id)
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- wrk.format() drops wrk.headers (the -H options) when given headers, so merge them.
local function headers(body)
  local h = {["Accept"] = "application/scim+json"}
  for k, v in pairs(wrk.headers) do h[k] = v end
  if body then h["Content-Type"] = "application/scim+json" end
  return h
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if #line > 0 then lines[#lines + 1] = line end
  end
  if #lines == 0 then error("no lines in " .. path) end
  return lines
end

-- This thread's share of `lines`: every THREADS-th, from its own offset.
local function share(lines)
  local mine = {}
  for i = tid, #lines, nthreads do mine[#mine + 1] = lines[i] end
  if #mine == 0 then mine = lines end
  return mine
end

function init(args)
  scenario = args[1] or error("usage: -- SCENARIO THREADS ARGS...")
  nthreads = tonumber(args[2]) or 1
  for i = 3, #args do a[#a + 1] = args[i] end
  base = wrk.path:gsub("/$", "")
  math.randomseed(os.time() + tid * 7919 + math.floor(os.clock() * 1e6))
  if scenario == "get_by_id" or scenario == "mixed" then
    ids = read_lines(a[1])
  elseif scenario == "patch_active" then
    slice = share(read_lines(a[1]))
  elseif scenario == "member" then
    slice = share(read_lines(a[2]))
  elseif scenario == "page_cursor" then
    ids = read_lines(a[1])
  end
end

local function get(path)
  return wrk.format("GET", base .. path, headers())
end

local function send(method, path, body)
  return wrk.format(method, base .. path, headers(body), body)
end

local function filter(attr, n, prefix)
  local k = math.random(n)
  local value
  if attr == "externalId" then
    value = "ext-" .. k
  else
    value = string.format("%s%05d@example.com", prefix, k)
  end
  return get("/Users?filter=" .. urlencode(attr .. ' eq "' .. value .. '"'))
end

local function create(label)
  counter = counter + 1
  local name = string.format("wrk-%s-%s-%d-%d@example.com", label, run_id, tid, counter)
  local body = '{"schemas":["' .. USER .. '"],"userName":"' .. name .. '",'
    .. '"name":{"givenName":"Wrk","familyName":"Created"},'
    .. '"emails":[{"value":"' .. name .. '","type":"work","primary":true}],"active":true}'
  return send("POST", "/Users", body)
end

local function patch_active(id, active)
  local body = '{"schemas":["' .. PATCH_OP .. '"],'
    .. '"Operations":[{"op":"replace","value":{"active":' .. tostring(active) .. '}}]}'
  return send("PATCH", "/Users/" .. id, body)
end

-- The next of this thread's share, and whether this is an even pass over it.
local function walk()
  local i = counter % #slice + 1
  local even = math.floor(counter / #slice) % 2 == 0
  counter = counter + 1
  return slice[i], even
end

function request()
  if scenario == "get_by_id" then
    return get("/Users/" .. ids[math.random(#ids)])
  elseif scenario == "filter" then
    return filter(a[1], tonumber(a[2]), a[3])
  elseif scenario == "create" then
    return create(a[1])
  elseif scenario == "patch_active" then
    local id, even = walk()
    return patch_active(id, not even)
  elseif scenario == "member" then
    local mover, even = walk()
    local op
    if even then
      op = '{"op":"add","path":"members","value":[{"value":"' .. mover .. '"}]}'
    else
      op = '{"op":"remove","path":"members[value eq \\"' .. mover .. '\\"]"}'
    end
    local body = '{"schemas":["' .. PATCH_OP .. '"],"Operations":[' .. op .. ']}'
    return send("PATCH", "/Groups/" .. a[1] .. "?excludedAttributes=members", body)
  elseif scenario == "page_index" then
    local total, span, count = tonumber(a[1]), tonumber(a[2]), tonumber(a[3])
    local start = total - span + math.random(math.max(1, span - count + 1))
    return get(string.format("/Users?startIndex=%d&count=%d", start, count))
  elseif scenario == "page_cursor" then
    return get("/Users?count=" .. a[2] .. "&cursor=" .. ids[math.random(#ids)])
  elseif scenario == "mixed" then
    local roll = math.random(100)
    if roll <= 40 then
      return get("/Users/" .. ids[math.random(#ids)])
    elseif roll <= 70 then
      return filter("userName", tonumber(a[2]), a[3])
    elseif roll <= 85 then
      return patch_active(ids[math.random(#ids)], math.random(2) == 1)
    else
      return create(a[4])
    end
  end
  error("unknown scenario " .. tostring(scenario))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d"
      .. " non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.requests, errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
