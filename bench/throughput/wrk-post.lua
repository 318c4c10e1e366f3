-- wrk: POST the body invent-dispatch sends, to a distinct chat path each
-- time, with the same headers.
local counter = 0
local body = '{"assistant_id":"asst_bench","title":"Spring offer for Ana",'
          .. '"message":[{"type":"text","text":"Hi! I would like to hear about the offer."}]}'
local headers = {
  ["Authorization"] = "Bearer bench-token",
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json",
  ["User-Agent"] = "wrk",
  ["Idempotency-Key"] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
}
request = function()
  counter = counter + 1
  return wrk.format("POST", "/orgs/c/contacts/c_" .. counter .. "/channels/ch_" .. (counter % 7) .. "/chats",
                    headers, body)
end
