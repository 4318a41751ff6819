# Module boundaries the compiler keeps.
#
# eshop_module(NAME <name> SOURCES ... [USES <module> ...])
#   <name>_api : INTERFACE target with modules/<name>/include only (its public face)
#   <name>     : STATIC target with modules/<name>/src; sees only the _api targets it USES.
# Including another module's header without declaring it in USES fails to compile,
# and a module's src/ is on no other target's include path.
set_property(GLOBAL PROPERTY ESHOP_MODULES "")

function(eshop_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;USES;MIGRATIONS;DATA" ${ARGN})
  set(dir ${CMAKE_SOURCE_DIR}/modules/${M_NAME})
  file(GLOB_RECURSE public_headers CONFIGURE_DEPENDS ${dir}/include/*.hpp)

  add_library(${M_NAME}_api INTERFACE)
  target_sources(${M_NAME}_api INTERFACE FILE_SET HEADERS BASE_DIRS ${dir}/include FILES ${public_headers})
  target_link_libraries(${M_NAME}_api INTERFACE eshop_kernel)
  foreach(dep IN LISTS M_USES)
    target_link_libraries(${M_NAME}_api INTERFACE ${dep}_api)
  endforeach()
  set_target_properties(${M_NAME}_api PROPERTIES VERIFY_INTERFACE_HEADER_SETS ON)

  add_library(${M_NAME} STATIC ${M_SOURCES})
  target_include_directories(${M_NAME} PRIVATE ${dir}/src)
  target_link_libraries(${M_NAME} PUBLIC ${M_NAME}_api PRIVATE eshop_http_client)  # for its remote client
  target_precompile_headers(${M_NAME} REUSE_FROM eshop_kernel)

  # Migrations and data files are compiled into the binary: one file to deploy.
  file(GLOB migrations CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/migrations/${M_NAME}/*.sql)
  list(SORT migrations)
  set(gen ${CMAKE_BINARY_DIR}/generated/${M_NAME}_migrations.cpp)
  add_custom_command(OUTPUT ${gen}
    COMMAND ${CMAKE_COMMAND} -DOUT=${gen} -DNAMESPACE=eshop::${M_NAME} "-DFILES=${migrations}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_migrations.cmake
    DEPENDS ${migrations} ${CMAKE_SOURCE_DIR}/cmake/embed_migrations.cmake VERBATIM)
  target_sources(${M_NAME} PRIVATE ${gen})

  set_property(GLOBAL APPEND PROPERTY ESHOP_MODULES ${M_NAME})
  set_property(GLOBAL PROPERTY ESHOP_MODULE_USES_${M_NAME} "${M_USES}")
endfunction()

# eshop_embed(<target> <symbol> <file>): a library exposing `std::string_view eshop::embedded::<symbol>()`.
function(eshop_embed target symbol file)
  set(gen ${CMAKE_BINARY_DIR}/generated/${target}.cpp)
  add_custom_command(OUTPUT ${gen}
    COMMAND ${CMAKE_COMMAND} -DOUT=${gen} -DSYMBOL=${symbol} -DFILE=${file}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_file.cmake
    DEPENDS ${file} ${CMAKE_SOURCE_DIR}/cmake/embed_file.cmake VERBATIM)
  add_library(${target} STATIC ${gen})
endfunction()

# The declared module graph, for the architecture test.
function(eshop_write_module_graph)
  get_property(modules GLOBAL PROPERTY ESHOP_MODULES)
  set(json "{")
  set(sep "")
  foreach(m IN LISTS modules)
    get_property(uses GLOBAL PROPERTY ESHOP_MODULE_USES_${m})
    set(deps "")
    set(dsep "")
    foreach(d IN LISTS uses)
      string(APPEND deps "${dsep}\"${d}\"")
      set(dsep ",")
    endforeach()
    string(APPEND json "${sep}\"${m}\":[${deps}]")
    set(sep ",")
  endforeach()
  string(APPEND json "}")
  file(WRITE ${CMAKE_BINARY_DIR}/module_graph.json "${json}\n")
endfunction()
