# cmake -DCLI=belladonna [-DGUI=belladonna-gui] -DHELP2MAN=help2man -DGZIP=gzip -DVERSION=x.y.z
#       -DOUT=dir -P make_manpages.cmake
# Writes OUT/belladonna.1.gz, OUT/belladonna-COMMAND.1.gz for each command that
# `belladonna --help` lists, and OUT/belladonna-gui.1.gz, with help2man reading each one's
# --help through a wrapper named like the page (help2man names the page after the program
# it runs, and the desktop app prints the name it was started as).
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT}/wrappers)

execute_process(COMMAND ${CLI} --help OUTPUT_VARIABLE _help RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "${CLI} --help failed (${_rc})")
endif()
# The command list: "  protect    write protected copies ..." lines after "commands:".
string(REGEX REPLACE ".*\ncommands:\n" "" _list "${_help}")
string(REGEX REPLACE "\n\n.*" "" _list "${_list}")
string(REPLACE "\n" ";" _lines "${_list}")
set(_commands "")
set(_see_also "")
foreach(_line ${_lines})
  if(_line MATCHES "^  ([a-z]+)  +(.+)$")
    list(APPEND _commands ${CMAKE_MATCH_1})
    set(_summary_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
    string(APPEND _see_also ".BR belladonna-${CMAKE_MATCH_1} (1),\n")
  endif()
endforeach()
if(NOT _commands)
  message(FATAL_ERROR "no commands found in `${CLI} --help`")
endif()
set(_gui_see_also "")
if(GUI)
  set(_gui_see_also ".BR belladonna-gui (1)\n")
endif()
file(WRITE ${OUT}/wrappers/see-also.h2m
  "[SEE ALSO]\n${_see_also}${_gui_see_also}")

file(WRITE ${OUT}/wrappers/see-also-gui.h2m "[SEE ALSO]\n.BR belladonna (1)\n")

# page(NAME SUMMARY "COMMAND LINE" [help2man options]): COMMAND LINE runs the program.
function(page name summary command)
  set(wrapper ${OUT}/wrappers/${name})
  file(WRITE ${wrapper} "#!/bin/bash\n${command} \"$@\"\n")
  file(CHMOD ${wrapper} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
       WORLD_READ WORLD_EXECUTE)
  execute_process(COMMAND ${HELP2MAN} --no-info --version-string=${VERSION} --name=${summary}
                          ${ARGN} --output=${OUT}/${name}.1 ${wrapper}
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "help2man failed on ${name}: ${err}")
  endif()
  execute_process(COMMAND ${GZIP} -9nf ${OUT}/${name}.1 RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip failed on ${name}.1")
  endif()
endfunction()

page(belladonna "protect artwork against generative-model training" "exec '${CLI}'"
     --include=${OUT}/wrappers/see-also.h2m)
foreach(_command ${_commands})
  page(belladonna-${_command} "${_summary_${_command}}" "exec '${CLI}' ${_command}")
endforeach()
if(GUI)
  # No display is needed to print the help.
  page(belladonna-gui "desktop app: drop images, protect them, compare before and after"
       "QT_QPA_PLATFORM=offscreen exec -a belladonna-gui '${GUI}'" "--include=${OUT}/wrappers/see-also-gui.h2m")
endif()
file(REMOVE_RECURSE ${OUT}/wrappers)
