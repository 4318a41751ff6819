-- A plain GET of the URL given to wrk.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA_DIR") .. "/?.lua"
require("report")
done = report
