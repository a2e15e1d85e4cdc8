# tulip_warnings(target): the project's warning set, PRIVATE so users are never forced onto it.
function(tulip_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(TULIP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
