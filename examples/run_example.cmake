# run_example.cmake — runs one example program for CTest.
#
#   cmake -DEXE=<program> -DEXPECT=<regex> -P run_example.cmake
#
# Passes when the program exits with status 0, writes nothing to standard
# error (where tulip logs unretrieved exceptions and sanitizers report), and
# its standard output matches EXPECT (a CMake regular expression; `.` also
# matches newlines).
# Runs with /tmp as the working directory: the programs must not depend on it.
if(NOT EXE OR NOT DEFINED EXPECT)
  message(FATAL_ERROR "usage: cmake -DEXE=<program> -DEXPECT=<regex> -P run_example.cmake")
endif()

execute_process(
  COMMAND ${EXE}
  WORKING_DIRECTORY /tmp
  RESULT_VARIABLE status
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  TIMEOUT 25)

message("${out}")
if(err)
  message("stderr:\n${err}")
endif()
if(NOT status STREQUAL "0")
  message(FATAL_ERROR "${EXE} exited with status '${status}'")
endif()
if(NOT err STREQUAL "")
  message(FATAL_ERROR "${EXE} wrote to standard error")
endif()
if(NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "${EXE}: the output does not match\n  ${EXPECT}")
endif()
