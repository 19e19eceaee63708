-- wrk script: GET /get?key=key-N over the first K keys (key-0 .. key-(K-1)),
-- K from the script's argument, default 1000; K = 1 is one hot key (key-0).
--   wrk -t1 -c32 -d5s -s bench/get.lua http://127.0.0.1:PORT -- 1000
-- The requests are formatted once in init, so wrk spends its CPU on the
-- network, not in Lua.
local reqs, n, i = {}, 0, 0
init = function(args)
  n = tonumber(args[1]) or 1000
  for k = 0, n - 1 do
    reqs[k] = wrk.format("GET", "/get?key=key-" .. k)
  end
end
request = function()
  local r = reqs[i]
  i = (i + 1) % n
  return r
end
