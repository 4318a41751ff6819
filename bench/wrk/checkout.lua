-- Checkout throughput. Run with as many threads as connections: each thread is one shopper on
-- one connection, strictly alternating "add an item" and "check out", so no request overtakes
-- its partner. Shopper n uses line n of $BENCH_TOKENS.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA_DIR") .. "/?.lua"
require("report")

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  threads[#threads + 1] = thread
end

function init(args)
  local n = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    n = n + 1
    if n == id then token = line end
  end
  product = os.getenv("BENCH_CHECKOUT_PRODUCT")
  turn = 0
  checkouts = 0
  body = '{"shippingAddress":{"fullName":"Bench Shopper","street":"1 Main St","city":"Springfield",' ..
         '"postalCode":"12345","country":"US"},"payment":{"cardNumber":"4242424242424242",' ..
         '"cardHolder":"Bench Shopper","expiry":"12/30","cvv":"123"}}'
end

function request()
  turn = turn + 1
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  if turn % 2 == 1 then
    return wrk.format("POST", "/api/v1/basket/items", headers, '{"productId":' .. product .. ',"quantity":1}')
  end
  checkouts = checkouts + 1
  return wrk.format("POST", "/api/v1/basket/checkout", headers, body)
end

function done(summary, latency, requests)
  report(summary, latency)
end
