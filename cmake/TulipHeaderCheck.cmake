# tulip_header_check(<target>): every header under include/tulip compiles on
# its own. One generated translation unit per header, which includes it twice
# (the second include proves the guard); built as an object library in the
# default build (TULIP_HEADER_CHECK; the sanitizer presets turn it off, so CI
# compiles it once, in the debug preset), with the project's
# warnings. A header that leans on what its includers happened to include
# first fails here.
function(tulip_header_check target)
  file(GLOB_RECURSE _headers RELATIVE ${PROJECT_SOURCE_DIR}/include CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/include/tulip/*.hpp)
  list(SORT _headers)
  set(_dir ${CMAKE_CURRENT_BINARY_DIR}/header_check)
  set(_sources)
  foreach(h ${_headers})
    string(REGEX REPLACE "[/.]" "_" _name ${h})
    set(_tu ${_dir}/${_name}.cpp)
    # file(CONFIGURE) rewrites only on change: no rebuild on every configure.
    file(CONFIGURE OUTPUT ${_tu} CONTENT "#include <${h}>\n#include <${h}>\n")
    list(APPEND _sources ${_tu})
  endforeach()
  add_library(${target} OBJECT ${_sources})
  target_link_libraries(${target} PRIVATE tulip::tulip)
  tulip_warnings(${target})
endfunction()
