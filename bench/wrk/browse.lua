-- A shop day's browsing shoppers: each connection is one shopper who thinks between requests
-- (uniformly between half and one and a half times $BENCH_THINK_MS, the first request too, so the
-- shoppers arrive spread over the first think time rather than all at once) and then asks for
-- $BENCH_BROWSE: "list" (a catalog page of 20, pages 1..$BENCH_PAGES), "filter" (the list of one
-- brand, one category, or both; $BENCH_FILTERS, separated by "|") or "detail" (a product of
-- $BENCH_PRODUCTS, separated by ",").
package.path = package.path .. ";" .. os.getenv("BENCH_LUA_DIR") .. "/?.lua"
require("report")

local function split(text, sep)
  local out = {}
  for part in string.gmatch(text or "", "([^" .. sep .. "]+)") do out[#out + 1] = part end
  return out
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  kind = os.getenv("BENCH_BROWSE")
  think = tonumber(os.getenv("BENCH_THINK_MS"))
  pages = tonumber(os.getenv("BENCH_PAGES") or "1")
  filters = split(os.getenv("BENCH_FILTERS"), "|")
  products = split(os.getenv("BENCH_PRODUCTS"), ",")
end

function delay()
  return math.floor(think * (0.5 + math.random()))
end

function request()
  local path
  if kind == "list" then
    path = "/api/v1/catalog/products?page=" .. math.random(pages)
  elseif kind == "filter" then
    path = "/api/v1/catalog/products?" .. filters[math.random(#filters)]
  else
    path = "/api/v1/catalog/products/" .. products[math.random(#products)]
  end
  return wrk.format("GET", path)
end

done = report
