-- POST /api/v1/interactions with a new external_id each time; saves the survey links it gets.
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  key, out_prefix, closed, run = args[1], args[2], args[3], args[4]
  out = io.open(out_prefix .. "." .. tid, "w")
  n, saved = 0, 0
end
function request()
  n = n + 1
  local body = string.format(
    '{"external_id":"BENCH-%s-%d-%d","audience":"resident","service_code":"sanitation.bulky-waste",' ..
    '"channel":"web","closed_at":"%s","contact":{"email":"r%d-%d@example.org","language":"he"}}',
    run, tid, n, closed, tid, n)
  return wrk.format("POST", "/api/v1/interactions",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end
function response(status, headers, body)
  if status == 201 then
    local path = body:match('"survey_url":"[^"]-(/s/[%w_-]+)"')
    if path then
      out:write(path, "\n")
      saved = saved + 1
      if saved % 200 == 0 then out:flush() end
    end
  end
end
