-- Checkout throughput. Run with as many threads as connections: each thread is one shopper on
-- one connection, strictly alternating "add an item" and "check out", so no request overtakes
-- its partner. Shopper n uses line n of $BENCH_TOKENS. With $BENCH_ORDER_GAP_MS a shopper waits
-- that long before each order (its "add an item"): a paced run, below the saturation rate.
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
  gap = tonumber(os.getenv("BENCH_ORDER_GAP_MS") or "0")
  body = '{"shippingAddress":{"fullName":"Bench Shopper","street":"1 Main St","city":"Springfield",' ..
         '"postalCode":"12345","country":"US"},"payment":{"cardNumber":"4242424242424242",' ..
         '"cardHolder":"Bench Shopper","expiry":"12/30","cvv":"123"}}'
end

-- The turn moves on with each answer, not with each call: wrk calls request() once more on the
-- first thread to check the script, and that call must not skip an "add an item".
function request()
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  if turn % 2 == 0 then
    return wrk.format("POST", "/api/v1/basket/items", headers, '{"productId":' .. product .. ',"quantity":1}')
  end
  return wrk.format("POST", "/api/v1/basket/checkout", headers, body)
end

function delay()
  if gap > 0 and turn % 2 == 0 then return gap end
  return 0
end

function done(summary, latency, requests)
  report(summary, latency)
end

-- The first failed answer of each shopper goes to stderr, so an error can be told apart.
function response(status, headers, body)
  if turn % 2 == 1 then checkouts = checkouts + 1 end
  turn = turn + 1
  if status >= 400 and not reported then
    reported = true
    io.stderr:write(string.format("shopper %d: HTTP %d after %d checkouts: %s\n", id, status, checkouts, body))
  end
end
