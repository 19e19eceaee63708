-- wrk script: POST /put?key=key-N with a small JSON value over the first K
-- keys (key-0 .. key-(K-1)), K from the script's argument, default 1000;
-- K = 1 writes one hot key (key-0) over and over. Values cycle through
-- 1,000 bodies ({"value": "value-M"}).
--   wrk -t1 -c32 -d5s -s bench/put.lua http://127.0.0.1:PORT -- 1000
local reqs, i = {}, 0
init = function(args)
  local n = tonumber(args[1]) or 1000
  for m = 0, 999 do
    reqs[m] = wrk.format("POST", "/put?key=key-" .. (m % n),
      {["Content-Type"] = "application/json"},
      '{"value": "value-' .. m .. '"}')
  end
end
request = function()
  local r = reqs[i]
  i = (i + 1) % 1000
  return r
end
