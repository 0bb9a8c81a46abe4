-- GET survey pages, cycling through up to 20,000 saved links; the requests are formatted once,
-- so that the load generator spends its CPU on sending, not on Lua.
local reqs = {}
function init(args)
  local paths = {}
  for line in io.lines(args[1]) do table.insert(paths, line) end
  math.randomseed(os.time() + #paths)
  for k = 1, math.min(#paths, 20000) do
    reqs[k] = wrk.format("GET", paths[math.random(#paths)])
  end
  i = 0
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
