-- GET survey pages, picked at random from the saved links.
local paths = {}
function init(args)
  for line in io.lines(args[1]) do table.insert(paths, line) end
  math.randomseed(os.time() + #paths)
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
