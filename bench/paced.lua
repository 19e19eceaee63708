-- wrk script: GET /get?key=key-0 with a pause of D milliseconds (the
-- script's argument, default 2) before each request on a connection, so
-- that with -c1 wrk offers about 1000/(D + latency) requests a second and
-- the target idles between them, as under kvclass load's fixed rate.
--   wrk -t1 -c1 -d10s --latency -s bench/paced.lua http://127.0.0.1:PORT -- 2
local req, pause
init = function(args)
  pause = tonumber(args[1]) or 2
  req = wrk.format("GET", "/get?key=key-0")
end
request = function() return req end
delay = function() return pause end
