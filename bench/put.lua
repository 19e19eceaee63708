-- wrk script: POST /put?key=key-N with a small JSON value over 1000 keys.
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/put?key=key-" .. (i % 1000),
    {["Content-Type"] = "application/json"},
    '{"value": "value-' .. i .. '"}')
end
