// The module boundaries the course teaches are boundaries the build keeps:
// the declared graph (CMake USES) is acyclic, and what the sources include matches it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

using Graph = std::map<std::string, std::set<std::string>>;

Graph declared_graph() {
  std::ifstream in(ESHOP_MODULE_GRAPH);
  REQUIRE(in);
  const auto doc = nlohmann::json::parse(in);
  Graph g;
  for (const auto& [module, deps] : doc.items()) g[module] = deps.get<std::set<std::string>>();
  return g;
}

struct Include {
  fs::path file;
  std::string target;
};

std::vector<Include> includes_of(const fs::path& dir) {
  std::vector<Include> out;
  const std::regex include_re(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto ext = entry.path().extension();
    if (ext != ".hpp" && ext != ".cpp" && ext != ".h") continue;
    std::ifstream in(entry.path());
    std::string line;
    std::smatch m;
    while (std::getline(in, line))
      if (std::regex_search(line, m, include_re)) out.push_back({entry.path(), m[1]});
  }
  return out;
}

bool has_cycle(const Graph& g, const std::string& node, std::set<std::string>& visiting, std::set<std::string>& done) {
  if (done.count(node)) return false;
  if (!visiting.insert(node).second) return true;
  if (auto it = g.find(node); it != g.end())
    for (const auto& dep : it->second)
      if (has_cycle(g, dep, visiting, done)) return true;
  visiting.erase(node);
  done.insert(node);
  return false;
}

// Adds "file:line: text" to `out` for each line (its // comment left out) of the files under `dir`
// that `wanted` lets through and in which `pattern` is found.
template <class Wanted>
void lines_matching(const char* dir, const std::regex& pattern, std::vector<std::string>& out, Wanted wanted) {
  const std::regex line_comment(R"(//.*$)");
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(ESHOP_SOURCE_DIR) / dir)) {
    if (!entry.is_regular_file() || !wanted(entry.path())) continue;
    std::ifstream in(entry.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      if (std::regex_search(std::regex_replace(line, line_comment, ""), pattern))
        out.push_back(entry.path().string() + ":" + std::to_string(n) + ": " + line);
  }
}

}  // namespace

TEST_CASE("the declared module graph names only modules and is acyclic", "[architecture]") {
  const auto g = declared_graph();
  REQUIRE(g.count("identity"));
  REQUIRE(g.count("catalog"));
  std::set<std::string> visiting, done;
  for (const auto& [module, deps] : g) {
    for (const auto& dep : deps) CHECK(g.count(dep) == 1);
    CHECK_FALSE(has_cycle(g, module, visiting, done));
  }
}

TEST_CASE("every module directory is a declared module", "[architecture]") {
  const auto g = declared_graph();
  for (const auto& entry : fs::directory_iterator(fs::path(ESHOP_SOURCE_DIR) / "modules"))
    if (entry.is_directory()) CHECK(g.count(entry.path().filename().string()) == 1);
}

TEST_CASE("a module includes only its own headers and the public faces of modules it declares", "[architecture]") {
  const auto g = declared_graph();
  const fs::path root = fs::path(ESHOP_SOURCE_DIR) / "modules";
  std::vector<std::string> violations;
  for (const auto& [module, deps] : g) {
    for (const auto& inc : includes_of(root / module)) {
      const auto& t = inc.target;
      const auto rel = fs::relative(inc.file, ESHOP_SOURCE_DIR).string();
      if (t.find("..") != std::string::npos) violations.push_back(rel + ": relative include " + t);
      const auto slash = t.find('/');
      if (slash == std::string::npos) continue;  // its own src/ headers, or the standard library
      const auto owner = t.substr(0, slash);
      if (owner == module || !g.count(owner)) continue;
      if (!deps.count(owner)) violations.push_back(rel + ": includes " + t + " without declaring " + owner);
      // module.hpp builds a module: only the composition root may include it.
      const auto header = t.substr(slash + 1);
      if (header != "api.hpp" && header != "events.hpp")
        violations.push_back(rel + ": includes " + t + ", which is not a public contract header");
    }
  }
  for (const auto& v : violations) UNSCOPED_INFO(v);
  CHECK(violations.empty());
}

TEST_CASE("the kernel knows no module and no transport", "[architecture]") {
  const auto g = declared_graph();
  std::vector<std::string> violations;
  for (const auto* dir : {"include/eshop", "src/kernel"})
    for (const auto& inc : includes_of(fs::path(ESHOP_SOURCE_DIR) / dir)) {
      const auto owner = inc.target.substr(0, inc.target.find('/'));
      if (g.count(owner) || owner == "boost") violations.push_back(inc.file.string() + ": " + inc.target);
    }
  CHECK(violations.empty());
}

TEST_CASE("Beast and Asio stay inside src/net", "[architecture]") {
  std::vector<std::string> violations;
  for (const auto* dir : {"include", "modules", "src/app", "src/kernel"})
    for (const auto& inc : includes_of(fs::path(ESHOP_SOURCE_DIR) / dir))
      if (inc.target.rfind("boost/", 0) == 0) violations.push_back(inc.file.string() + ": " + inc.target);
  CHECK(violations.empty());
}

TEST_CASE("no test name holds a semicolon, which CTest would split into tests that run nothing", "[architecture]") {
  const std::regex name_re(R"re(TEST_CASE\("([^"]*)")re");
  std::vector<std::string> bad;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(ESHOP_SOURCE_DIR) / "tests")) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::sregex_iterator it(text.begin(), text.end(), name_re), end; it != end; ++it)
      if ((*it)[1].str().find(';') != std::string::npos) bad.push_back((*it)[1].str());
  }
  for (const auto& b : bad) UNSCOPED_INFO(b);
  CHECK(bad.empty());
}

TEST_CASE("outside the modules, only the composition root names a module: the rest works from their declarations",
          "[architecture]") {
  // A module's name or route prefix as a string literal in the gateway, the config, the operations,
  // the kernel or the transports would be a special case that moving or adding a module must find.
  const std::regex named(R"re("(identity|catalog|discount|basket|ordering|/api/v1/(identity|catalog|discounts|basket|orders)/?)")re");
  std::vector<std::string> violations;
  for (const auto* dir : {"include/eshop", "src/app", "src/kernel", "src/net", "src/transport", "src/adapters"})
    lines_matching(dir, named, violations, [](const fs::path& file) {
      return file.filename() != "app.cpp" && file.filename() != "modules.cpp";  // the composition root
    });
  for (const auto& v : violations) UNSCOPED_INFO(v);
  CHECK(violations.empty());
}

TEST_CASE("every module handles events through the kernel's EventHandlers: none subscribes or keeps its inbox by hand",
          "[architecture]") {
  // One wiring (include/eshop/event_handlers.hpp): the payload typed, the effect and the inbox record
  // in one transaction, an external call skipped for a duplicate. A module calling the bus or the
  // inbox itself would be a second wiring, with its own way to get duplicates wrong.
  const std::regex by_hand(R"(\.subscribe\s*\(\s*"|inbox::(handle_once|seen)\b)");
  std::vector<std::string> violations;
  lines_matching("modules", by_hand, violations, [](const fs::path& file) {
    return file.extension() == ".cpp" || file.extension() == ".hpp";
  });
  for (const auto& v : violations) UNSCOPED_INFO(v);
  CHECK(violations.empty());
}
