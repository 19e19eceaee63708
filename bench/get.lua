-- wrk script: GET /get?key=key-N over 1000 keys.
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/get?key=key-" .. (i % 1000))
end
