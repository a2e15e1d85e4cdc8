# FindLLHTTP: llhttp's C sources where Debian's node-llhttp installs them
# (/usr/share/llhttp/*.c, /usr/share/include/llhttp/llhttp.h). llhttp ships no
# library, only sources: they are compiled here into the OBJECT library
# LLHTTP::objects, which tulip puts inside its own library, so that tulip's
# users never need llhttp themselves.
#
# Sets LLHTTP_FOUND, LLHTTP_INCLUDE_DIR, LLHTTP_SOURCES; defines LLHTTP::objects.

find_path(LLHTTP_INCLUDE_DIR llhttp.h PATH_SUFFIXES llhttp PATHS /usr/share/include)
set(LLHTTP_SOURCES)
foreach(_src api http llhttp)
  find_file(LLHTTP_${_src}_C ${_src}.c PATHS /usr/share/llhttp NO_DEFAULT_PATH)
  mark_as_advanced(LLHTTP_${_src}_C)
  list(APPEND LLHTTP_SOURCES ${LLHTTP_${_src}_C})
endforeach()
mark_as_advanced(LLHTTP_INCLUDE_DIR)

if(LLHTTP_INCLUDE_DIR AND EXISTS ${LLHTTP_INCLUDE_DIR}/llhttp.h)
  file(STRINGS ${LLHTTP_INCLUDE_DIR}/llhttp.h _ver REGEX "^#define LLHTTP_VERSION_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3" LLHTTP_VERSION "${_ver}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LLHTTP
  REQUIRED_VARS LLHTTP_INCLUDE_DIR LLHTTP_api_C LLHTTP_http_C LLHTTP_llhttp_C
  VERSION_VAR LLHTTP_VERSION
  REASON_FAILURE_MESSAGE "llhttp's C sources come from the Debian package node-llhttp: apt-get install node-llhttp (scripts/deps.sh)")

if(LLHTTP_FOUND AND NOT TARGET LLHTTP::objects)
  add_library(tulip_llhttp_objects OBJECT ${LLHTTP_SOURCES})
  set_target_properties(tulip_llhttp_objects PROPERTIES
    LINKER_LANGUAGE C POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
  # Strict mode: llhttp's generated parser rejects more of what RFC 9112 forbids.
  target_compile_definitions(tulip_llhttp_objects PUBLIC LLHTTP_STRICT_MODE=1)
  target_include_directories(tulip_llhttp_objects PUBLIC ${LLHTTP_INCLUDE_DIR})
  # Not our code: its warnings are not ours to fix (and never errors).
  target_compile_options(tulip_llhttp_objects PRIVATE -w)
  add_library(LLHTTP::objects ALIAS tulip_llhttp_objects)
endif()
