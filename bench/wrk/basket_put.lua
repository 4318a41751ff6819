-- Basket writes by many users: PUT /api/v1/basket/items/{id} {"quantity": n} with a random
-- user's token each time. Tokens come one per line from $BENCH_TOKENS; products from $BENCH_PRODUCTS.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA_DIR") .. "/?.lua"
require("report")
done = report

local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local products = {}
for id in string.gmatch(os.getenv("BENCH_PRODUCTS"), "%d+") do products[#products + 1] = id end

function request()
  local token = tokens[math.random(#tokens)]
  local product = products[math.random(#products)]
  return wrk.format("PUT", "/api/v1/basket/items/" .. product,
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    '{"quantity":' .. math.random(1, 5) .. '}')
end
